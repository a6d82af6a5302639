import Foundation

/// Lets callers await the end of the threads behind a writer, checkpointer or readers:
/// ``wait()`` returns once ``count`` threads have called ``threadEnded()``.
final class ThreadExit: @unchecked Sendable {
    private let lock = NSLock()
    // Guarded by `lock`.
    private var running: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(count: Int) {
        running = count
    }

    /// Called by each thread as its last act.
    func threadEnded() {
        let ready: [CheckedContinuation<Void, Never>] = lock.withLock {
            running -= 1
            guard running == 0 else { return [] }
            defer { waiters = [] }
            return waiters
        }
        ready.forEach { $0.resume() }
    }

    /// Returns once every thread has ended.
    func wait() async {
        await withCheckedContinuation { continuation in
            let done = lock.withLock {
                if running <= 0 { return true }
                waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}
