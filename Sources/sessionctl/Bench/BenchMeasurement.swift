import Foundation
import Histogram
import SessionStore
import Synchronization

/// One scenario run, as `sessionctl bench --json` prints it.
struct BenchResult: Encodable, Sendable {
    var scenario: String
    var durability: String
    var groupCommit: Bool
    var concurrency: Int
    var sessions: Int
    var operations: Int
    var opsPerSecond: Double
    var p50Micros: Double
    var p99Micros: Double
    var p999Micros: Double
    var maxMicros: Double
    var peakRSSBytes: Int64
    var fileBytes: Int64
    /// Scenario-specific findings, e.g. sessions ended by the first sweep after recovery.
    var notes: [String: String] = [:]
    /// Keys per call of a touch-batch scenario, whose operations are batches.
    var batch: Int? = nil
    /// Keys touched a second in a touch-batch scenario: `opsPerSecond` × `batch`.
    var keysPerSecond: Double? = nil
}

extension BenchResult {
    /// The figures of `measurement`, a scenario of `settings` ran.
    init(
        scenario: String, settings: BenchSettings, measurement: Measurement, peakRSSBytes: Int64, fileBytes: Int64,
        notes: [String: String]
    ) {
        self.init(
            scenario: scenario, durability: settings.durability.rawValue, groupCommit: settings.groupCommit,
            concurrency: settings.concurrency, sessions: settings.sessions, operations: measurement.operations,
            opsPerSecond: measurement.opsPerSecond, p50Micros: measurement.micros(50), p99Micros: measurement.micros(99),
            p999Micros: measurement.micros(99.9), maxMicros: measurement.maxMicros, peakRSSBytes: peakRSSBytes,
            fileBytes: fileBytes, notes: notes)
        if scenario == BenchScenario.touchBatch.rawValue {
            batch = settings.batch
            keysPerSecond = measurement.opsPerSecond * Double(settings.batch)
        }
    }
}

/// Latencies and wall time of a measured loop.
struct Measurement: Sendable {
    var operations: Int
    var elapsed: Duration
    var histogram: Histogram<UInt64>

    var opsPerSecond: Double {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return seconds > 0 ? Double(operations) / seconds : 0
    }

    func micros(_ percentile: Double) -> Double {
        Double(histogram.valueAtPercentile(percentile)) / 1000
    }

    var maxMicros: Double { Double(histogram.max) / 1000 }
}

enum BenchRunner {
    /// An empty histogram of nanoseconds, up to 10 minutes.
    static func newHistogram() -> Histogram<UInt64> {
        Histogram<UInt64>(highestTrackableValue: 600_000_000_000, numberOfSignificantValueDigits: .three)
    }

    /// `duration` in whole nanoseconds, 0 for a negative one.
    static func nanoseconds(_ duration: Duration) -> UInt64 {
        UInt64(max(0, duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000))
    }

    /// Runs `operation(index)` for indexes `0..<operations` from `concurrency` tasks,
    /// timing each call; `progress` counts each call done.
    static func measure(
        operations: Int, concurrency: Int, progress: ProgressLine,
        _ operation: @escaping @Sendable (Int) async throws -> Void
    ) async throws -> Measurement {
        try await measure(operations: operations, concurrency: concurrency, progress: progress) { _, calls in
            try await calls.run(operation)
        }
    }

    /// Like ``measure(operations:concurrency:progress:_:)`` for callers that hold something
    /// across their calls (a stream): `caller` is started once per caller with its number
    /// and a ``CallerCalls``, sets up, and hands `calls.run` the operation to time.
    static func measure(
        operations: Int, concurrency: Int, progress: ProgressLine,
        caller: @escaping @Sendable (_ number: Int, _ calls: CallerCalls) async throws -> Void
    ) async throws -> Measurement {
        defer { progress.finish() }
        let next = OperationCounter()
        let start = ContinuousClock.now
        // What an interrupted run prints: the calls timed so far, by every caller.
        let measuring = BenchTally.shared.measuring(operations: operations, since: start)
        let histogram = try await withThrowingTaskGroup(of: Histogram<UInt64>.self) { group in
            for number in 0..<max(1, concurrency) {
                let calls = CallerCalls(next: next, operations: operations, progress: progress)
                measuring.add(calls)
                group.addTask {
                    try await caller(number, calls)
                    return calls.histogram
                }
            }
            var merged = newHistogram()
            for try await local in group {
                merged.add(local)
            }
            return merged
        }
        return Measurement(operations: operations, elapsed: ContinuousClock.now - start, histogram: histogram)
    }

    /// Runs `operation` once, timed: for scenarios measured as a whole (a sweep, a
    /// recovery).
    static func measureOnce(operations: Int, _ operation: () async throws -> Void) async throws -> Measurement {
        let began = ContinuousClock.now
        try await operation()
        return median(of: [ContinuousClock.now - began], operations: operations)
    }

    /// Several timed runs of one operation: every run in the histogram, the median as the
    /// elapsed time.
    static func median(of runs: [Duration], operations: Int) -> Measurement {
        var histogram = newHistogram()
        for run in runs {
            _ = histogram.record(nanoseconds(run))
        }
        let sorted = runs.sorted()
        let median = sorted.isEmpty ? .zero : sorted[sorted.count / 2]
        return Measurement(operations: operations, elapsed: median, histogram: histogram)
    }

    /// The peak resident set (VmHWM), in bytes, of this process or of the process `pid`;
    /// 0 when it cannot be read.
    static func peakRSS(of pid: pid_t? = nil) -> Int64 {
        let path = "/proc/\(pid.map(String.init) ?? "self")/status"
        guard let status = try? String(contentsOfFile: path, encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let digits = line.split(separator: " ").dropFirst().first.flatMap { Int64($0) } ?? 0
            return digits * 1024
        }
        return 0
    }

    /// The median time, in microseconds, of appending 4 KiB to a scratch file in
    /// `directory` and waiting for `fdatasync`: what one durable commit costs this disk
    /// at the least. Group commit pays it once per batch, a commit alone once per write,
    /// so the faster the disk flushes, the smaller the gain `--compare` can show. Nil if
    /// the scratch file cannot be written.
    static func flushMicros(directory: String, samples: Int = 200) -> Double? {
        let path = (directory as NSString).appendingPathComponent("bench-flush-\(UUID().uuidString)")
        let descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return nil }
        defer {
            close(descriptor)
            unlink(path)
        }
        let page = [UInt8](repeating: 0x5A, count: 4096)
        var durations: [Duration] = []
        durations.reserveCapacity(samples)
        for _ in 0..<samples {
            let began = ContinuousClock.now
            let written = page.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard written == page.count, fdatasync(descriptor) == 0 else { return nil }
            durations.append(ContinuousClock.now - began)
        }
        let median = durations.sorted()[durations.count / 2].components
        return Double(median.seconds) * 1e6 + Double(median.attoseconds) / 1e12
    }

    /// Runs `open(index)` for indexes `0..<count` from 64 tasks, each opening one session
    /// and returning its key; returns the keys.
    static func populate(count: Int, _ open: @escaping @Sendable (Int) async throws -> String) async throws -> KeyTable {
        let bar = ProgressLine("populating", total: count)
        defer { bar.finish() }
        let next = Counter()
        let chunks = try await withThrowingTaskGroup(of: KeyTable.self) { group in
            for _ in 0..<64 {
                group.addTask {
                    var keys = KeyTable()
                    while let index = next.next(below: count) {
                        keys.append(try await open(index))
                        bar.add()
                    }
                    return keys
                }
            }
            var all: [KeyTable] = []
            for try await chunk in group { all.append(chunk) }
            return all
        }
        var keys = KeyTable()
        for chunk in chunks {
            for index in 0..<chunk.count { keys.append(chunk[index]) }
        }
        return keys
    }

    static func fileSize(_ path: String) -> Int64 {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        return (attributes?[.size] as? NSNumber)?.int64Value ?? 0
    }
}

/// Session keys held compactly (16 bytes each), so a million of them cost 16 MB rather
/// than the ~80 MB of strings.
struct KeyTable: Sendable {
    private var words: [UInt64] = []

    var count: Int { words.count / 2 }

    mutating func append(_ key: String) {
        let hex = key.replacingOccurrences(of: "-", with: "")
        words.append(UInt64(hex.prefix(16), radix: 16) ?? 0)
        words.append(UInt64(hex.suffix(16), radix: 16) ?? 0)
    }

    subscript(index: Int) -> String {
        SessionKey.format(high: words[index * 2], low: words[index * 2 + 1])
    }
}

/// The next operation index, shared by the measuring tasks.
final class OperationCounter: Sendable {
    private let value = Atomic<Int>(0)

    func take() -> Int {
        value.add(1, ordering: .relaxed).oldValue
    }
}

/// One caller's share of a measured loop: ``run(_:)`` times the operation for each index
/// the caller takes, until every index is taken.
final class CallerCalls: Sendable {
    private let next: OperationCounter
    private let operations: Int
    private let progress: ProgressLine
    private let timings = Mutex(BenchRunner.newHistogram())

    fileprivate init(next: OperationCounter, operations: Int, progress: ProgressLine) {
        self.next = next
        self.operations = operations
        self.progress = progress
    }

    /// Calls `operation(index)` for each index this caller takes, timing each.
    func run(_ operation: (Int) async throws -> Void) async throws {
        while true {
            let index = next.take()
            guard index < operations else { return }
            let began = ContinuousClock.now
            try await operation(index)
            let took = ContinuousClock.now - began
            timings.withLock { _ = $0.record(BenchRunner.nanoseconds(took)) }
            progress.add()
        }
    }

    /// The times recorded so far.
    var histogram: Histogram<UInt64> { timings.withLock { $0 } }
}
