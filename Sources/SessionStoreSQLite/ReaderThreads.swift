import Foundation

/// Read-only connections on threads of their own, beside the writer: in WAL mode a
/// reader sees the last committed state and never waits for the writer.
///
/// Each thread opens its connection on first use, so a pool that only writes never
/// holds idle read connections.
final class ReaderThreads: StoppableThreads, @unchecked Sendable {
    typealias Job = @Sendable (Result<Database, any Error>) -> Void

    let condition = NSCondition()
    // Guarded by `condition`.
    private var queue: [Job] = []
    private var head = 0
    var isShuttingDown = false

    private let open: @Sendable () throws -> Database
    /// The most jobs that may wait for a reader; past it ``enqueue(_:)`` refuses.
    let maxPendingBound: Int
    let exit: ThreadExit

    init(count: Int, name: String, maxPending: Int = .max, open: @escaping @Sendable () throws -> Database) {
        self.open = open
        self.maxPendingBound = max(1, maxPending)
        let count = max(1, count)
        exit = ThreadExit(count: count)
        for index in 0..<count {
            startThread(named: "\(name)-read-\(index)") { [self] in loop() }
        }
    }

    /// Queues a job, unless the threads are shutting down or `maxPending` jobs already
    /// wait (those running do not count).
    func enqueue(_ job: @escaping Job) -> Enqueued {
        condition.lock()
        defer { condition.unlock() }
        guard !isShuttingDown else { return .closed }
        guard queue.count - head < maxPendingBound else { return .overloaded }
        queue.append(job)
        condition.signal()
        return .accepted
    }

    /// Jobs waiting for a reader, those running not included.
    var pendingCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return queue.count - head
    }

    private func next() -> Job? {
        condition.lock()
        defer { condition.unlock() }
        while head == queue.count && !isShuttingDown {
            condition.wait()
        }
        guard head < queue.count else { return nil }
        let job = queue[head]
        head += 1
        if head == queue.count {
            queue.removeAll(keepingCapacity: true)
            head = 0
        }
        return job
    }

    private func loop() {
        var connection: Database?
        while let job = next() {
            if let connection {
                job(.success(connection))
                continue
            }
            do {
                let opened = try open()
                connection = opened
                job(.success(opened))
            } catch {
                job(.failure(error))
            }
        }
        connection = nil
        exit.threadEnded()
    }
}
