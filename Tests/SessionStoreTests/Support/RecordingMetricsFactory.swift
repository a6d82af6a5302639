import CoreMetrics
import Synchronization

/// A metrics factory that keeps what the store records, for tests to read.
final class RecordingMetricsFactory: MetricsFactory, Sendable {
    private struct Key: Hashable {
        let label: String
        let dimensions: [String: String]
    }

    private final class Handler: CounterHandler, RecorderHandler, TimerHandler, Sendable {
        let values = Mutex<[Double]>([])
        func increment(by amount: Int64) { values.withLock { $0.append(Double(amount)) } }
        func reset() { values.withLock { $0.removeAll() } }
        func record(_ value: Int64) { values.withLock { $0.append(Double(value)) } }
        func record(_ value: Double) { values.withLock { $0.append(value) } }
        func recordNanoseconds(_ duration: Int64) { values.withLock { $0.append(Double(duration)) } }
    }

    private let handlers = Mutex<[Key: Handler]>([:])
    private let destroyed = Mutex<[Key]>([])

    private func handler(_ label: String, _ dimensions: [(String, String)]) -> Handler {
        let key = Key(label: label, dimensions: Dictionary(dimensions, uniquingKeysWith: { $1 }))
        return handlers.withLock { handlers in
            if let handler = handlers[key] { return handler }
            let handler = Handler()
            handlers[key] = handler
            return handler
        }
    }

    private func values(_ label: String, _ dimensions: [String: String]) -> [Double] {
        let handler = handlers.withLock { $0[Key(label: label, dimensions: dimensions)] }
        return handler?.values.withLock { $0 } ?? []
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler { handler(label, dimensions) }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        handler(label, dimensions)
    }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { handler(label, dimensions) }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {
        let key = handlers.withLock { handlers in handlers.first { $0.value === (handler as? Handler) }?.key }
        if let key { destroyed.withLock { $0.append(key) } }
    }
    func destroyTimer(_ handler: any TimerHandler) {}

    /// The nanoseconds recorded by a timer, one per call.
    func timerValues(_ label: String, _ dimensions: [String: String] = [:]) -> [Double] { values(label, dimensions) }
    /// The sum of a counter's increments.
    func counterTotal(_ label: String, _ dimensions: [String: String] = [:]) -> Double { values(label, dimensions).reduce(0, +) }
    /// Whether a gauge (or other recorder) was destroyed.
    func wasDestroyed(_ label: String, _ dimensions: [String: String] = [:]) -> Bool {
        destroyed.withLock { $0.contains(Key(label: label, dimensions: dimensions)) }
    }
    /// The last value a gauge recorded.
    func gaugeValue(_ label: String, _ dimensions: [String: String] = [:]) -> Double? { values(label, dimensions).last }
}
