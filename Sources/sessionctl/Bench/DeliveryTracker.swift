import Histogram
import Synchronization

/// What the notify scenario's subscribers have received: which streams delivered
/// anything yet, and for each ended session awaited, when its end began and how many
/// subscribers still lack it.
final class DeliveryTracker: Sendable {
    struct State: Sendable {
        /// Per subscriber: whether its stream delivered anything yet.
        var seen: [Bool]
        /// Subscribers whose stream delivered anything.
        var attached = 0
        /// Sessions being ended: when the end began and how many subscribers lack it.
        var pending: [String: (since: ContinuousClock.Instant, remaining: Int)] = [:]
        /// Latencies of the deliveries of awaited sessions.
        var histogram = BenchRunner.newHistogram()
        var delivered = 0
        var failedStreams = 0
    }

    private let state: Mutex<State>
    private let subscribers: Int

    init(subscribers: Int) {
        self.subscribers = subscribers
        state = Mutex(State(seen: Array(repeating: false, count: subscribers)))
    }

    /// Awaits `key`'s end from now on, by every subscriber.
    func expect(_ key: String) {
        let now = ContinuousClock.now
        state.withLock { $0.pending[key] = (now, subscribers) }
    }

    /// Subscriber `subscriber` received `key`'s end.
    func received(_ key: String, by subscriber: Int) {
        let now = ContinuousClock.now
        state.withLock { state in
            if !state.seen[subscriber] {
                state.seen[subscriber] = true
                state.attached += 1
            }
            guard let awaited = state.pending[key] else { return }
            _ = state.histogram.record(BenchRunner.nanoseconds(now - awaited.since))
            state.delivered += 1
            state.pending[key] = awaited.remaining > 1 ? (awaited.since, awaited.remaining - 1) : nil
        }
    }

    /// A stream ended with an error before the scenario cancelled it.
    func streamFailed() {
        state.withLock { $0.failedStreams += 1 }
    }

    var attached: Int { state.withLock { $0.attached } }
    var failedStreams: Int { state.withLock { $0.failedStreams } }
    var results: (histogram: Histogram<UInt64>, delivered: Int) { state.withLock { ($0.histogram, $0.delivered) } }

    /// Returns once `done` holds, or after `timeout`, checking every millisecond.
    func wait(timeout: Duration, until done: (State) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !state.withLock({ done($0) }), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}
