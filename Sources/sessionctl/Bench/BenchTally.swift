import Foundation
import Histogram
import Synchronization

/// What a bench run has measured so far: the scenarios it completed and the one under
/// way, so that a run stopped with Ctrl-C prints its figures rather than nothing.
final class BenchTally: Sendable {
    /// The run of this process: one bench at a time.
    static let shared = BenchTally()

    private struct Running {
        var scenario: String
        var settings: BenchSettings
        var path: String?
        var measuring: Measuring?
    }

    private struct State {
        var completed: [BenchResult] = []
        var running: Running?
    }

    private let state = Mutex(State())

    /// A measured loop under way: when it began, how many calls it makes, and each
    /// caller's timings.
    final class Measuring: Sendable {
        let operations: Int
        let since: ContinuousClock.Instant
        private let callers = Mutex<[CallerCalls]>([])

        fileprivate init(operations: Int, since: ContinuousClock.Instant) {
            self.operations = operations
            self.since = since
        }

        func add(_ calls: CallerCalls) {
            callers.withLock { $0.append(calls) }
        }

        /// The calls timed so far, over the time since the loop began.
        var soFar: Measurement {
            var merged = BenchRunner.newHistogram()
            for calls in callers.withLock({ $0 }) { merged.add(calls.histogram) }
            return Measurement(operations: Int(merged.totalCount), elapsed: ContinuousClock.now - since, histogram: merged)
        }
    }

    /// Scenario `scenario` of `settings` begins, on the file at `path`.
    func begin(_ scenario: String, settings: BenchSettings, path: String?) {
        state.withLock { $0.running = Running(scenario: scenario, settings: settings, path: path) }
    }

    /// The scenario under way ended with `result`.
    func complete(_ result: BenchResult) {
        state.withLock {
            $0.completed.append(result)
            $0.running = nil
        }
    }

    /// The scenario under way starts a measured loop of `operations` calls.
    func measuring(operations: Int, since: ContinuousClock.Instant) -> Measuring {
        let measuring = Measuring(operations: operations, since: since)
        state.withLock { $0.running?.measuring = measuring }
        return measuring
    }

    /// The completed scenarios, then the one under way with what it measured so far and
    /// a note `interrupted` saying how far it got.
    func soFar() -> [BenchResult] {
        let (completed, running) = state.withLock { ($0.completed, $0.running) }
        guard let running else { return completed }
        let measurement: Measurement
        let note: String
        if let measuring = running.measuring {
            measurement = measuring.soFar
            note = "after \(measurement.operations) of \(measuring.operations) operations"
        } else {
            measurement = Measurement(operations: 0, elapsed: .zero, histogram: BenchRunner.newHistogram())
            note = "before its measured part began"
        }
        let fileBytes = running.path.map { BenchRunner.fileSize($0) + BenchRunner.fileSize($0 + "-wal") } ?? 0
        let partial = BenchResult(
            scenario: running.scenario, settings: running.settings, measurement: measurement,
            peakRSSBytes: BenchRunner.peakRSS(), fileBytes: fileBytes, notes: ["interrupted": note])
        return completed + [partial]
    }
}
