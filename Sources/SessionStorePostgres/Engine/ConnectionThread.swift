import Foundation
import Synchronization

/// A queue of jobs for threads that block: `take` waits on a condition variable, never on
/// the cooperative pool.
final class JobQueue<Job>: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var head = 0
    private var closed = false

    /// Jobs waiting now.
    var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return jobs.count - head
    }

    /// Adds `job`; false when the queue is closed or already holds `limit` jobs.
    func offer(_ job: Job, limit: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closed, jobs.count - head < limit else { return false }
        jobs.append(job)
        condition.signal()
        return true
    }

    /// Waits for at least one job and takes up to `max`; empty once closed and drained.
    func take(max: Int) -> [Job] {
        condition.lock()
        defer { condition.unlock() }
        while jobs.count == head && !closed {
            condition.wait()
        }
        let end = Swift.min(jobs.count, head + Swift.max(1, max))
        let taken = Array(jobs[head..<end])
        head = end
        if head == jobs.count {
            jobs.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 1024 {
            jobs.removeFirst(head)
            head = 0
        }
        return taken
    }

    /// Refuses new jobs; waiting threads drain what is queued, then get an empty batch.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}

/// A thread that owns one connection and runs batches of jobs from a queue on it, until
/// the queue closes.
final class ConnectionThread<Job>: Sendable {
    private let ending = ThreadEnd()

    /// Starts a thread named `name` running `run` with each batch taken from `queue`.
    init(
        name: String, queue: JobQueue<Job>, batch: Int, run: @escaping @Sendable ([Job]) -> Void,
        end: @escaping @Sendable () -> Void
    ) {
        let ending = self.ending
        let thread = Thread {
            while true {
                let jobs = queue.take(max: batch)
                if jobs.isEmpty { break }
                run(jobs)
            }
            end()
            ending.finish()
        }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Waits for the thread to end, suspending (no thread waits).
    func join() async {
        await ending.wait()
    }
}

/// The end of a thread, awaited without blocking a thread: the ending thread resumes
/// whoever waits.
final class ThreadEnd: Sendable {
    private struct State {
        var finished = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// Called by the thread as it ends.
    func finish() {
        let waiting = state.withLock { state in
            state.finished = true
            defer { state.waiting = [] }
            return state.waiting
        }
        waiting.forEach { $0.resume() }
    }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let finished = state.withLock { state in
                if !state.finished { state.waiting.append(continuation) }
                return state.finished
            }
            if finished { continuation.resume() }
        }
    }
}

/// Where a job's result waits between its run on a connection thread and its caller's
/// resumption.
final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}
