import Foundation
import Synchronization

/// Lets callers await the end of the threads behind a writer, checkpointer or readers:
/// ``wait()`` returns once ``count`` threads have called ``threadEnded()``.
final class ThreadExit: Sendable {
    private struct State {
        var running: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>

    init(count: Int) {
        state = Mutex(State(running: count))
    }

    /// Called by each thread as its last act.
    func threadEnded() {
        let ready: [CheckedContinuation<Void, Never>] = state.withLock { state in
            state.running -= 1
            guard state.running == 0 else { return [] }
            defer { state.waiters = [] }
            return state.waiters
        }
        ready.forEach { $0.resume() }
    }

    /// Returns once every thread has ended.
    func wait() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state in
                if state.running <= 0 { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}

/// Threads of the pool (the writer, the checkpointer, the readers) that wait on
/// `condition` until there is work or `isShuttingDown`, and report their end to `exit`.
protocol StoppableThreads: AnyObject, Sendable {
    var condition: NSCondition { get }
    /// Guarded by `condition`.
    var isShuttingDown: Bool { get set }
    var exit: ThreadExit { get }
}

extension StoppableThreads {
    /// Asks the threads to finish what is queued and stop.
    func shutdown() {
        condition.withLock {
            isShuttingDown = true
            condition.broadcast()
        }
    }

    /// Returns once every thread has ended and closed its connection.
    func waitForExit() async {
        await exit.wait()
    }
}
