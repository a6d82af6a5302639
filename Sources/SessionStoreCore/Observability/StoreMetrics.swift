import Metrics
import Synchronization

/// The store's swift-metrics instruments. Built from the injected factory, or from
/// whatever the application bootstrapped.
struct StoreMetrics: Sendable {
    let factory: any MetricsFactory
    /// The latency of the operations a service calls most.
    let operations: OperationTimers
    private let recordedTotals: RecordedTotals

    init(factory: (any MetricsFactory)?) {
        let factory = factory ?? MetricsSystem.factory
        self.factory = factory
        self.operations = OperationTimers(factory: factory)
        self.recordedTotals = RecordedTotals()
    }

    func counter(_ label: String, _ dimensions: [(String, String)] = []) -> Counter {
        Counter(label: label, dimensions: dimensions, factory: factory)
    }

    func gauge(_ label: String, _ dimensions: [(String, String)] = []) -> Gauge {
        Gauge(label: label, dimensions: dimensions, factory: factory)
    }

    func timer(_ label: String, _ dimensions: [(String, String)] = []) -> Metrics.Timer {
        Metrics.Timer(label: label, dimensions: dimensions, factory: factory)
    }

    /// Brings the counter `label` up to `total`, a monotonic total read from the file:
    /// it is incremented by what the total grew since this store last recorded it (all
    /// of it the first time). A total older than one already recorded changes nothing,
    /// so the counter never goes down.
    func advanceCounter(_ label: String, _ dimensions: [(String, String)], to total: Int64) {
        let series = ([label] + dimensions.map { "\($0.0)=\($0.1)" }).joined(separator: "\u{0}")
        let increase = recordedTotals.values.withLock { recorded -> Int64 in
            let previous = recorded[series] ?? 0
            guard total > previous else { return 0 }
            recorded[series] = total
            return total - previous
        }
        if increase > 0 {
            counter(label, dimensions).increment(by: increase)
        }
    }

    /// Records every gauge series of a snapshot. A series recorded last time and missing
    /// now is set to 0 and destroyed, so the process does not keep publishing every data
    /// source it ever saw.
    func recordGauges(_ series: [GaugeSeries]) {
        for gauge in series {
            self.gauge(gauge.label, gauge.dimensions).record(gauge.value)
        }
        let current = Set(series.map(\.key))
        let gone = recordedTotals.gauges.withLock { recorded -> [GaugeSeries] in
            let gone = recorded.filter { !current.contains($0.key) }
            recorded = Dictionary(series.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
            return Array(gone.values)
        }
        for stale in gone {
            let gauge = self.gauge(stale.label, stale.dimensions)
            gauge.record(0)
            gauge.destroy()
        }
    }
}

/// One sample of a gauge family: the family's label, the sample's dimensions, its value.
struct GaugeSeries: Sendable {
    let label: String
    let dimensions: [(String, String)]
    let value: Double

    /// The series' identity: label and dimensions.
    var key: String { ([label] + dimensions.map { "\($0.0)=\($0.1)" }).joined(separator: "\u{0}") }
}

/// The timers of `sessionstore_operation_duration_seconds`, one per `operation`, made
/// once so a call records without asking the factory.
struct OperationTimers: Sendable {
    static let label = "sessionstore_operation_duration_seconds"

    /// ``SessionStore/openSession(_:)`` and ``SessionStore/openIsolatedSession(userId:sessionId:)``.
    let openSession: Metrics.Timer
    /// ``SessionStore/touch(key:)``.
    let touch: Metrics.Timer
    /// ``SessionStore/closeSession(key:reason:)``.
    let closeSession: Metrics.Timer
    /// One ``SessionStore/sweep(pause:)`` pass.
    let sweep: Metrics.Timer

    init(factory: any MetricsFactory) {
        func timer(_ operation: String) -> Metrics.Timer {
            Metrics.Timer(label: Self.label, dimensions: [("operation", operation)], factory: factory)
        }
        openSession = timer("open_session")
        touch = timer("touch")
        closeSession = timer("close_session")
        sweep = timer("sweep")
    }
}

extension Metrics.Timer {
    /// Records the time from `start` to now.
    func record(since start: ContinuousClock.Instant) {
        record(duration: start.duration(to: .now))
    }
}

/// The file totals a store last recorded as counters, and the gauge series it last
/// recorded, by series.
private final class RecordedTotals: Sendable {
    let values = Mutex<[String: Int64]>([:])
    let gauges = Mutex<[String: GaugeSeries]>([:])
}
