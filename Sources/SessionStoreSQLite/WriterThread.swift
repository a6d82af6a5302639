import Foundation

/// A write waiting for the writer thread: `run` applies it inside the batch's
/// transaction, `complete` resumes its caller once that transaction has committed (nil)
/// or failed (the error).
struct WriteRequest: Sendable {
    let run: @Sendable (Database) throws -> Void
    let complete: @Sendable ((any Error)?) -> Void
    /// False for work that must run outside a transaction (a WAL checkpoint); such a
    /// request is never grouped with others.
    var isTransactional = true
}

/// What became of a request handed to a thread's queue.
enum Enqueued {
    /// Queued; it will run.
    case accepted
    /// The thread is shutting down; the request will not run.
    case closed
    /// The queue already holds its bound of waiting requests; the request will not run.
    case overloaded
}

/// The one connection that writes, on a thread of its own.
///
/// Requests that queue up while a batch is being written form the next batch: one
/// `BEGIN IMMEDIATE` transaction in which each request runs inside its own savepoint, so
/// a request that throws is undone alone. Callers are resumed after `COMMIT` returns, so
/// nobody hears of a change before it is durable at the configured level, and one fsync
/// (with `synchronous=FULL`) serves the whole batch.
final class WriterThread: StoppableThreads, @unchecked Sendable {
    let exit = ThreadExit(count: 1)
    let condition = NSCondition()
    // Guarded by `condition`.
    private var queue: [WriteRequest] = []
    var isShuttingDown = false

    private let maxBatchSize: Int
    /// The most requests that may wait for the writer; past it ``enqueue(_:)`` refuses.
    let maxPendingBound: Int

    private var committedBatchCount = 0

    /// Transactions committed so far; each holds one batch of requests.
    var committedBatches: Int {
        condition.lock()
        defer { condition.unlock() }
        return committedBatchCount
    }

    init(maxBatchSize: Int, maxPending: Int = .max) {
        self.maxBatchSize = max(1, maxBatchSize)
        self.maxPendingBound = max(1, maxPending)
    }

    /// Starts the thread; `open` runs on it and makes its connection.
    func start(name: String, open: @escaping @Sendable () throws -> Database, opened: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        startThread(named: name) { [self] in
            // The connection is closed when this call returns, before exit is reported.
            run(open: open, opened: opened)
            finish()
        }
    }

    private func run(open: () throws -> Database, opened: (Result<Void, any Error>) -> Void) {
        let database: Database
        do {
            database = try open()
        } catch {
            opened(.failure(error))
            return
        }
        opened(.success(()))
        loop(database)
    }

    /// Queues a request, unless the thread is shutting down or `maxPending` requests
    /// already wait (the batch being written does not count).
    func enqueue(_ request: WriteRequest) -> Enqueued {
        condition.lock()
        defer { condition.unlock() }
        guard !isShuttingDown else { return .closed }
        guard queue.count < maxPendingBound else { return .overloaded }
        queue.append(request)
        condition.signal()
        return .accepted
    }

    /// Requests waiting for the writer, the batch being written not included.
    var pendingCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return queue.count
    }

    private func finish() {
        condition.lock()
        isShuttingDown = true
        let abandoned = queue
        queue = []
        condition.unlock()
        for request in abandoned {
            request.complete(SQLiteError(code: .misuse, message: "the database was closed before the write ran"))
        }
        exit.threadEnded()
    }

    private func nextBatch() -> [WriteRequest]? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !isShuttingDown {
            condition.wait()
        }
        if queue.isEmpty { return nil }
        let end = queue.firstIndex(where: { !$0.isTransactional }) ?? queue.count
        if end == 0 {
            return [queue.removeFirst()]
        }
        let count = min(end, maxBatchSize)
        if count == queue.count {
            defer { queue = [] }
            return queue
        }
        let batch = Array(queue.prefix(count))
        queue.removeFirst(count)
        return batch
    }

    private func loop(_ database: Database) {
        while let batch = nextBatch() {
            write(batch, on: database)
        }
    }

    /// A request alone in its transaction needs no savepoint: when it throws, the whole
    /// transaction is rolled back rather than committed with its partial writes.
    private func writeAlone(_ request: WriteRequest, on database: Database) {
        do {
            try request.run(database)
        } catch {
            database.rollbackIfNeeded()
            request.complete(error)
            return
        }
        request.complete(commit(database))
    }

    /// Commits the open transaction; on failure rolls it back and returns the error.
    private func commit(_ database: Database) -> (any Error)? {
        do {
            try database.execute(sql: "COMMIT")
            condition.withLock { committedBatchCount += 1 }
            return nil
        } catch {
            database.rollbackIfNeeded()
            return error
        }
    }

    private func write(_ batch: [WriteRequest], on database: Database) {
        if batch.count == 1, !batch[0].isTransactional {
            do {
                try batch[0].run(database)
                batch[0].complete(nil)
            } catch {
                batch[0].complete(error)
            }
            return
        }
        do {
            try database.execute(sql: "BEGIN IMMEDIATE")
        } catch {
            batch.forEach { $0.complete(error) }
            return
        }
        if batch.count == 1 {
            writeAlone(batch[0], on: database)
            return
        }
        guard case (var outcomes, let firstPending)? = runInSavepoints(batch, on: database) else { return }
        if outcomes[firstPending...].contains(where: { $0 == nil }) {
            if let error = commit(database) {
                for index in firstPending..<outcomes.count where outcomes[index] == nil {
                    outcomes[index] = error
                }
            }
        } else {
            // Every request of this transaction failed and rolled back its savepoint:
            // there is nothing to commit.
            database.rollbackIfNeeded()
        }
        for (request, outcome) in zip(batch, outcomes) {
            request.complete(outcome)
        }
    }

    /// Runs each request of `batch` in a savepoint of the open transaction. Returns each
    /// request's outcome and the index of the first request whose changes the transaction
    /// still open holds; nil when a new transaction could not begin, every request having
    /// been completed then.
    private func runInSavepoints(
        _ batch: [WriteRequest], on database: Database
    ) -> (outcomes: [(any Error)?], firstPending: Int)? {
        var outcomes: [(any Error)?] = []
        outcomes.reserveCapacity(batch.count)
        var firstPending = 0
        for request in batch {
            do {
                try database.inSavepoint { try request.run(database) }
                outcomes.append(nil)
            } catch {
                outcomes.append(error)
                if !database.isInsideTransaction {
                    // SQLite rolled the whole transaction back (SQLITE_FULL, an I/O error,
                    // ...): the requests before this one are undone too. Tell them, and go
                    // on with the rest in a new transaction.
                    for index in firstPending..<(outcomes.count - 1) where outcomes[index] == nil {
                        outcomes[index] = error
                    }
                    firstPending = outcomes.count
                    do {
                        try database.execute(sql: "BEGIN IMMEDIATE")
                    } catch {
                        for (index, request) in batch.enumerated() {
                            request.complete(index < outcomes.count ? outcomes[index] ?? error : error)
                        }
                        return nil
                    }
                }
            }
        }
        return (outcomes, firstPending)
    }
}
