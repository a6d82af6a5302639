import Foundation
import Logging
import SessionStoreCore
import Synchronization

/// SessionStore on a PostgreSQL server, through libpq.
///
/// Connections live on threads of their own, so blocking calls never run on the
/// cooperative pool: one writer thread, ``SessionStoreConfiguration/readerCount`` reader
/// threads and one listener.
///
/// **Writes** are group-committed as on SQLite: the writer takes the bodies waiting (up to
/// ``SessionStoreConfiguration/maxWriteBatch``), runs them in one `READ COMMITTED`
/// transaction, each in a savepoint, and commits once. The transaction first takes the
/// store's write lock, a transaction-level advisory lock keyed by the schema, so the
/// writers of every process and host run one batch at a time. That meets the isolation
/// contract of ``StorageBackend`` as SQLite's one writer does: limits stay exact, a link
/// cycle cannot form, a session's caps hold, and events commit in sequence order, so a
/// follower's position is a sequence number and never skips an event. A serialization
/// failure or a deadlock (SQLSTATE 40001, 40P01) runs the batch again, up to eight times.
///
/// **Reads** run in `REPEATABLE READ READ ONLY` transactions on the reader connections, in
/// parallel with each other and with the writer.
///
/// **Change signals** are PostgreSQL notifications: every batch that commits notifies the
/// store's channel, and a listener connection counts what it hears. A notification only
/// wakes a reader; the event log stays the source of truth, and a listener that lost its
/// connection says "changed" until it is back.
///
/// A lost connection fails the calls in flight on it with `STORAGE.UNAVAILABLE`; the next
/// call connects again.
package final class PostgresBackend: StorageBackend {
    package let location: String
    let conninfo: String
    let logger: Logger
    /// The schema's advisory lock key: the oid of its namespace.
    let lockKey: Int64
    /// The notification channel of the schema.
    let channel: String
    let maxPendingWrites: Int
    let maxPendingReads: Int

    private let writes = JobQueue<WriteJob>()
    private let reads = JobQueue<ReadJob>()
    private let threads: [ConnectionThread<WriteJob>]
    private let readerThreads: [ConnectionThread<ReadJob>]
    private let listener: NotificationListener
    private let isClosed = Atomic<Bool>(false)

    /// The migrations compiled into this build, from `Migrations/postgres/`.
    static let migrations: [Migration] = embeddedMigrations

    private init(
        conninfo: String, location: String, lockKey: Int64, schema: String, configuration: SessionStoreConfiguration,
        time: PostgresTime
    ) {
        self.conninfo = conninfo
        self.location = location
        self.lockKey = lockKey
        channel = "sessionstore_\(lockKey)"
        let clock = TransactionClock(time, configuration: configuration)
        logger = configuration.logger
        maxPendingWrites = max(1, configuration.maxPendingWrites)
        maxPendingReads = max(1, configuration.maxPendingReads)
        let listener = NotificationListener(conninfo: conninfo, channel: channel)
        self.listener = listener
        let writer = Writer(
            conninfo: conninfo, lockKey: lockKey, channel: channel, clock: clock, listener: listener,
            observer: configuration.statementObserver)
        threads = [
            ConnectionThread(
                name: "SessionStore PostgreSQL writer", queue: writes, batch: max(1, configuration.maxWriteBatch),
                run: writer.run, end: writer.end)
        ]
        let reads = self.reads
        readerThreads = (0..<max(1, configuration.readerCount)).map { index in
            let reader = Reader(conninfo: conninfo, clock: clock)
            return ConnectionThread(
                name: "SessionStore PostgreSQL reader \(index)", queue: reads, batch: 1, run: reader.run, end: reader.end)
        }
    }

    /// Connects with `conninfo`, migrates the schema (under the schema's advisory lock) and
    /// starts the connection threads.
    package static func open(
        conninfo: String, configuration: SessionStoreConfiguration, time: PostgresTime = .database
    ) async throws -> PostgresBackend {
        let location = PGConnection.redacted(conninfo)
        let (lockKey, schema) = try await onThread {
            let connection = try PGConnection(conninfo: conninfo)
            guard
                let found = try connection.fetchOne(
                    sql: "SELECT n.oid, n.nspname FROM pg_namespace n WHERE n.nspname = current_schema()",
                    map: { ($0.int64(0), $0.string(1)) })
            else {
                throw SessionStoreError(
                    code: .storageCantOpen,
                    message: "PostgreSQL at \(location) has no schema to create the tables in: create the first schema of search_path")
            }
            let applied = try PostgresMigrator(migrations: migrations).migrate(
                connection, lockKey: found.0, now: configuration.clock.now())
            if !applied.isEmpty {
                configuration.logger.debug(
                    "applied migrations", metadata: ["store.path": "\(location)", "store.migrations": "\(applied)"])
            }
            return found
        }
        let backend = PostgresBackend(
            conninfo: conninfo, location: location, lockKey: lockKey, schema: schema, configuration: configuration, time: time)
        backend.listener.start()
        return backend
    }

    package func read<T: Sendable>(_ body: @escaping @Sendable (any StorageTransaction) throws -> T) async throws -> T {
        try await read(snapshot: true, body)
    }

    /// With `snapshot` false the body's statements run outside a transaction, each on its
    /// own: one round trip for a point read.
    package func read<T: Sendable>(snapshot: Bool, _ body: @escaping @Sendable (any StorageTransaction) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let job = ReadJob(
                snapshot: snapshot,
                run: { transaction in continuation.resume(with: Result { try body(transaction) }) },
                fail: { continuation.resume(throwing: $0) })
            guard !isClosed.load(ordering: .acquiring) else {
                return continuation.resume(throwing: Self.closedError)
            }
            guard reads.offer(job, limit: maxPendingReads) else {
                return continuation.resume(throwing: Self.overloaded("reads", maxPendingReads))
            }
        }
    }

    package func readInline<T>(snapshot: Bool, _ body: (any StorageTransaction) throws -> T) throws -> T? {
        nil
    }

    package func write<T: Sendable>(_ body: @escaping @Sendable (any StorageTransaction) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let box = ResultBox<T>()
            let job = WriteJob(
                run: { transaction in
                    do {
                        box.result = .success(try body(transaction))
                        return nil
                    } catch {
                        box.result = .failure(error)
                        return error
                    }
                },
                finish: { batchError in
                    if let batchError {
                        continuation.resume(throwing: batchError)
                    } else if let result = box.result {
                        continuation.resume(with: result)
                    } else {
                        continuation.resume(throwing: SessionStoreError(code: .storageError, message: "a write ended without a result"))
                    }
                })
            guard !isClosed.load(ordering: .acquiring) else {
                return continuation.resume(throwing: Self.closedError)
            }
            guard writes.offer(job, limit: maxPendingWrites) else {
                return continuation.resume(throwing: Self.overloaded("writes", maxPendingWrites))
            }
        }
    }

    package func makeChangeSignal() async throws -> any ChangeSignal {
        listener.makeSignal()
    }

    package func checkpoint(truncating: Bool) async throws {}

    /// Hosts anywhere may share a database server.
    package var sharedAcrossHosts: Bool { true }

    package var pendingWrites: Int { writes.count }
    package var pendingReads: Int { reads.count }

    package func storageStatus() async throws -> StorageStatus {
        let location = self.location
        let latest = Self.migrations.last?.version ?? 0
        return try await read { transaction in
            let connection = try PostgresTransaction.connection(of: transaction)
            let version = try PostgresMigrator(migrations: Self.migrations).applied(connection).last?.version ?? 0
            let tables = try connection.fetchAll(
                sql: "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename") { $0.string(0) }
            let counts = try tables.map { table in
                StorageStatus.TableCount(
                    table: table, rows: try connection.fetchInt64(sql: "SELECT count(*) FROM \"\(table)\"") ?? 0)
            }
            let bytes = try connection.fetchInt64(
                sql: """
                    SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c
                    WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'm')
                    """) ?? 0
            return StorageStatus(
                path: location, schemaVersion: version, latestKnownVersion: latest, fileBytes: bytes, walBytes: 0,
                journalMode: "postgresql", tables: counts)
        }
    }

    package func checkIntegrity() async throws -> IntegrityReport {
        try await read { transaction in
            let connection = try PostgresTransaction.connection(of: transaction)
            return IntegrityReport(
                integrity: ["ok"], foreignKeyViolations: [],
                migrationProblems: try PostgresMigrator(migrations: Self.migrations).problems(connection))
        }
    }

    package func close() async {
        guard !isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        writes.close()
        reads.close()
        for thread in threads { await thread.join() }
        for thread in readerThreads { await thread.join() }
        await listener.stop()
    }

    static let closedError = SessionStoreError(code: .storageClosed, message: "the store is closed")

    static func overloaded(_ what: String, _ limit: Int) -> SessionStoreError {
        SessionStoreError(
            code: .storageOverloaded,
            message: "\(limit) \(what) already wait for a PostgreSQL connection: the call was refused, nothing ran")
    }

    /// Runs `body` on a thread of its own and returns what it returns.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try body() }) }
            thread.name = "SessionStore PostgreSQL open"
            thread.start()
        }
    }
}

/// A body waiting for the writer: `run` runs it in the batch's transaction and returns its
/// error, if any; `finish` resumes its caller after the commit, with the batch's error
/// when the batch failed.
struct WriteJob: @unchecked Sendable {
    let run: (PostgresTransaction) -> (any Error)?
    let finish: (PostgresError?) -> Void
}

/// A body waiting for a reader.
struct ReadJob: @unchecked Sendable {
    /// Whether the body needs one snapshot (a transaction) or runs statements on their own.
    let snapshot: Bool
    let run: (PostgresTransaction) -> Void
    let fail: (any Error) -> Void
}
