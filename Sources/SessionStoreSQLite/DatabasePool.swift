import Foundation

/// A database file served by one writer connection and several reader connections, each
/// on a thread of its own, so blocking SQLite calls never run on Swift's cooperative
/// thread pool.
///
/// ```swift
/// let pool = try await DatabasePool.open(path: "/tmp/example.sqlite")
/// try await pool.write { db in
///     try db.execute(sql: "INSERT INTO t(name) VALUES (?)", ["ada"])
/// }
/// let count = try await pool.read { db in
///     try db.fetchInt64(sql: "SELECT count(*) FROM t")
/// }
/// await pool.close()
/// ```
///
/// Writes are group-committed: see ``write(_:)``.
public final class DatabasePool: Sendable {
    /// The path of the database file.
    public let path: String
    /// The options every connection of the pool is opened with.
    public let configuration: DatabaseConfiguration
    private let writer: WriterThread
    /// Nil with `full` durability; see ``backgroundCheckpoints``.
    private let checkpointer: CheckpointerThread?
    private let readers: ReaderThreads
    private let inlineReaders: InlineReaders

    private init(
        path: String, configuration: DatabaseConfiguration, writer: WriterThread, checkpointer: CheckpointerThread?,
        readers: ReaderThreads, inlineReaders: InlineReaders
    ) {
        self.path = path
        self.configuration = configuration
        self.writer = writer
        self.checkpointer = checkpointer
        self.readers = readers
        self.inlineReaders = inlineReaders
    }

    deinit {
        writer.shutdown()
        checkpointer?.shutdown()
        readers.shutdown()
    }

    /// Opens the file (creating it with mode 0600 if allowed and missing) and starts the
    /// writer thread, which runs `prepare` first (migrations, for example) before taking
    /// any write.
    ///
    /// - Parameters:
    ///   - readerCount: connections available for concurrent reads.
    ///   - maxBatchSize: the most requests one transaction groups; 1 turns group commit
    ///     off, each request then committing in a transaction of its own.
    ///   - maxPendingWrites: the most writes that may wait for the writer (the batch being
    ///     written not counted); one more fails at once with ``DatabaseOverloadedError``
    ///     instead of queuing, so memory stays bounded when writes arrive faster than they
    ///     commit.
    ///   - maxPendingReads: the same bound for reads waiting for a reader connection.
    public static func open(
        path: String,
        configuration: DatabaseConfiguration = DatabaseConfiguration(),
        readerCount: Int = 2,
        maxBatchSize: Int = 256,
        maxPendingWrites: Int = 10_000,
        maxPendingReads: Int = 10_000,
        prepare: @escaping @Sendable (Database) throws -> Void = { _ in }
    ) async throws -> DatabasePool {
        let writer = WriterThread(maxBatchSize: maxBatchSize, maxPending: maxPendingWrites)
        let checkpointer = configuration.durability == .normal ? CheckpointerThread() : nil
        checkpointer?.start(name: "sstore-checkpoint") { try Database(path: path, configuration: configuration) }
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                writer.start(
                    name: "sstore-writer",
                    open: {
                        let database = try Database(path: path, configuration: configuration)
                        if let checkpointer {
                            database.hand(checkpointsTo: checkpointer)
                        }
                        try prepare(database)
                        return database
                    },
                    opened: { continuation.resume(with: $0) })
            }
        } catch {
            checkpointer?.shutdown()
            throw error
        }
        let readerConfiguration = configuration.forReading(busyTimeout: configuration.busyTimeout)
        let readers = ReaderThreads(count: readerCount, name: "sstore", maxPending: maxPendingReads) {
            try Database(path: path, configuration: readerConfiguration)
        }
        let inlineConfiguration = configuration.forReading(busyTimeout: .zero)
        let inlineReaders: InlineReaders
        do {
            inlineReaders = try await onDedicatedThread(name: "SessionStore.open") {
                InlineReaders(try (0..<max(1, readerCount)).map { _ in
                    try Database(path: path, configuration: inlineConfiguration)
                })
            }
        } catch {
            readers.shutdown()
            checkpointer?.shutdown()
            writer.shutdown()
            throw error
        }
        return DatabasePool(
            path: path, configuration: configuration, writer: writer, checkpointer: checkpointer, readers: readers,
            inlineReaders: inlineReaders)
    }

    /// Runs `body` on the writer connection inside a write transaction and returns its
    /// result once that transaction has committed.
    ///
    /// Requests that arrive while another batch is being written share the next
    /// transaction, each in its own savepoint: if `body` throws, only its own changes are
    /// rolled back and the error is rethrown to this caller alone. If the commit itself
    /// fails, every request of the batch gets that error, so a caller never hears of a
    /// change that is not committed. Cancelling the calling task does not withdraw a
    /// request that was queued.
    ///
    /// Throws ``DatabaseOverloadedError`` at once, running nothing, when `maxPendingWrites`
    /// writes already wait.
    public func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await enqueueWrite(transactional: true, body)
    }

    /// Runs `body` on the writer connection outside any transaction, between batches:
    /// for statements SQLite refuses inside one, such as `PRAGMA wal_checkpoint`.
    public func writeWithoutTransaction<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await enqueueWrite(transactional: false, body)
    }

    /// Runs a `PASSIVE` checkpoint on the writer connection between batches: copies what
    /// it can from the WAL into the database file without waiting for readers. The
    /// background checkpoint (``backgroundCheckpoints``) runs only with `normal`
    /// durability and only after this pool's own commits; this one serves `full`
    /// durability and a WAL grown by other processes too.
    package func checkpointPassively() async throws {
        try await writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)") }
    }

    /// Copies the whole WAL into the database file, waiting for readers, and empties it
    /// (`TRUNCATE`): what a benchmark does before a measured pass.
    package func checkpointTruncating() async throws {
        try await writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
    }

    private func enqueueWrite<T: Sendable>(
        transactional: Bool, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws -> T {
        let box = ResultBox<T>()
        return try await withCheckedThrowingContinuation { continuation in
            let request = WriteRequest(
                run: { database in box.value = try body(database) },
                complete: { error in
                    if let error {
                        continuation.resume(throwing: error)
                    } else if let value = box.value {
                        continuation.resume(returning: value)
                    } else {
                        continuation.resume(throwing: SQLiteError(code: .misuse, message: "write finished without a result"))
                    }
                },
                isTransactional: transactional)
            switch writer.enqueue(request) {
            case .accepted: break
            case .closed: continuation.resume(throwing: Self.closedError)
            case .overloaded: continuation.resume(throwing: DatabaseOverloadedError(queue: .writes, bound: writer.maxPendingBound))
            }
        }
    }

    /// Runs `body` on a reader connection inside a deferred transaction, so every query
    /// in it sees the same committed snapshot.
    ///
    /// Throws ``DatabaseOverloadedError`` at once, running nothing, when `maxPendingReads`
    /// reads already wait for a connection.
    public func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let outcome = readers.enqueue { connection in
                continuation.resume(with: Result {
                    let database = try connection.get()
                    return try database.inTransaction(.deferred) { try body(database) }
                })
            }
            switch outcome {
            case .accepted: break
            case .closed: continuation.resume(throwing: Self.closedError)
            case .overloaded: continuation.resume(throwing: DatabaseOverloadedError(queue: .reads, bound: readers.maxPendingBound))
            }
        }
    }

    /// Writes waiting for the writer connection now, the batch being written not
    /// included.
    public var pendingWrites: Int { writer.pendingCount }

    /// Reads waiting for a reader connection now, those running not included.
    public var pendingReads: Int { readers.pendingCount }

    /// Runs a point read on the calling thread, on a connection that never waits for a
    /// lock; `nil` when no such connection is idle or SQLite would have had to wait, in
    /// which case use ``read(_:)``. Keep `body` to a few indexed lookups: it runs on the
    /// caller's thread.
    ///
    /// - Parameter snapshot: wrap `body` in a deferred transaction, so several queries see
    ///   one committed state.
    public func readInline<T>(snapshot: Bool = true, _ body: (Database) throws -> T) throws -> T? {
        try inlineReaders.read { database in
            snapshot ? try database.inTransaction(.deferred) { try body(database) } : try body(database)
        }
    }

    /// Transactions the writer has committed since the pool opened.
    public var committedWriteTransactions: Int { writer.committedBatches }

    /// Checkpoints run beside the writer since the pool opened.
    ///
    /// With `normal` durability the writer's commits do not copy the WAL back into the
    /// database file, as SQLite's automatic checkpoint would: once the WAL holds 1,000
    /// pages a connection of the pool's own does it on its own thread with a `PASSIVE`
    /// checkpoint, which waits for nobody. Only if the WAL reaches 4,000 pages (the
    /// background checkpoint falling behind a busy writer) does the writer checkpoint in
    /// its commit, so the WAL stays bounded.
    ///
    /// With `full` durability the writer keeps SQLite's automatic checkpoint and this
    /// stays 0: every commit already waits for an fsync, and a checkpoint syncing the
    /// same disk beside it slows those fsyncs by more than the checkpoint saves.
    public var backgroundCheckpoints: Int { checkpointer?.completedCheckpoints ?? 0 }

    /// Finishes queued writes, stops the threads and closes every connection.
    public func close() async {
        // Readers and the checkpointer first: the last connection to close checkpoints
        // the WAL and removes it, which the writer, closing last, does.
        inlineReaders.close()
        readers.shutdown()
        await readers.waitForExit()
        if let checkpointer {
            checkpointer.shutdown()
            await checkpointer.waitForExit()
        }
        writer.shutdown()
        await writer.waitForExit()
    }

    private static let closedError = DatabaseClosedError()
}

/// A read or write was refused at once because its queue already held its bound of
/// waiting requests (`maxPendingWrites` or `maxPendingReads` of
/// ``DatabasePool/open(path:configuration:readerCount:maxBatchSize:maxPendingWrites:maxPendingReads:prepare:)``).
/// Nothing ran; a retry may pass once the queue drains.
public struct DatabaseOverloadedError: Error, Sendable, CustomStringConvertible {
    /// Which queue was full.
    public enum Queue: String, Sendable {
        /// Writes waiting for the writer connection.
        case writes
        /// Reads waiting for a reader connection.
        case reads
    }

    /// Which queue was full.
    public let queue: Queue
    /// How many requests that queue holds at most.
    public let bound: Int

    /// Says which queue was full and its bound.
    public var description: String {
        "\(bound) \(queue.rawValue) are already waiting for the database; retry later"
    }
}

/// A read or write was asked of a ``DatabasePool`` after ``DatabasePool/close()``.
public struct DatabaseClosedError: Error, Sendable, CustomStringConvertible {
    /// Says that the database is closed.
    public var description: String { "the database is closed" }
}

/// Carries a write's result from the writer thread to its caller; written before the
/// commit and read after it, never at the same time.
private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}

extension DatabaseConfiguration {
    /// These options for a read-only connection to the same file, waiting at most
    /// `busyTimeout` for a lock.
    func forReading(busyTimeout: Duration) -> DatabaseConfiguration {
        var options = self
        options.readOnly = true
        options.busyTimeout = busyTimeout
        return options
    }
}
