import Foundation
import SessionStoreCore

/// SessionStore's embedded default backend: one SQLite file, served by a
/// ``DatabasePool`` (a group-committing writer thread, reader threads, inline point reads
/// and a background checkpointer).
///
/// It meets the isolation contract of ``StorageBackend`` with SQLite's single writer:
/// every write transaction is `BEGIN IMMEDIATE` on the one writer connection of the
/// process, and SQLite's file lock orders the writers of several processes. Sequence
/// numbers of `events` therefore commit in order, and a page's `through` is the newest
/// sequence number of its snapshot. The time of a transaction is the configured
/// ``WallClock`` read when its body starts, so an injected clock decides every call.
package final class SQLiteBackend: StorageBackend {
    package let pool: DatabasePool
    let clock: any WallClock

    package var location: String { pool.path }

    private init(pool: DatabasePool, clock: any WallClock) {
        self.pool = pool
        self.clock = clock
    }

    /// The migrations compiled into this build, from the package's `Migrations/` folder.
    package static let migrations: [Migration] = embeddedMigrations.map { migration in
        var migration = migration
        migration.supersededChecksums = supersededChecksums[migration.version] ?? []
        return migration
    }

    /// Checksums of other texts of shipped migrations that a file may have recorded; the
    /// migrator accepts them beside the current text's, and later migrations bring such a
    /// file to the same schema. 0001: the seed's text, and a text with the partial
    /// client-id index (0007 makes both changes); 0002: a text without
    /// `executions_running_by_id` (0009 creates it where it is missing); 0003: a text that
    /// differs in a comment. Tests/Fixtures/ShippedMigrations holds each text, and a test
    /// opens a file that recorded it.
    private static let supersededChecksums: [Int: Set<String>] = [
        1: ["1809b3fc3c509517", "10a8b5e87e6d5c17"],
        2: ["87cc78b35ef1535b"],
        3: ["c916edbbf06b658c"],
    ]

    /// Opens (creating if needed, mode 0600) and migrates the database at `path` with the
    /// storage options of `configuration`.
    package static func open(path: String, configuration: SessionStoreConfiguration) async throws -> SQLiteBackend {
        let clock = configuration.clock
        let logger = configuration.logger.withCallMetadata()
        var databaseConfiguration = DatabaseConfiguration(
            durability: configuration.durability, busyTimeout: configuration.busyTimeout)
        databaseConfiguration.statementObserver = configuration.statementObserver
        databaseConfiguration.permissionsTightened = { file, oldMode in
            logger.debug(
                "made a database file private (mode 0600)",
                metadata: ["store.path": "\(path)", "file.path": "\(file)", "file.old_mode": "\(String(oldMode, radix: 8))"])
        }
        let migrator = try Migrator(migrations: migrations)
        let pool = try await DatabasePool.open(
            path: path,
            configuration: databaseConfiguration,
            readerCount: configuration.readerCount,
            maxBatchSize: configuration.maxWriteBatch,
            maxPendingWrites: configuration.maxPendingWrites,
            maxPendingReads: configuration.maxPendingReads,
            prepare: { db in
                let applied = try migrator.migrate(db, now: clock.now())
                if !applied.isEmpty {
                    logger.debug("applied migrations", metadata: ["store.path": "\(path)", "store.migrations": "\(applied)"])
                }
            })
        return SQLiteBackend(pool: pool, clock: clock)
    }

    package func read<T: Sendable>(_ body: @escaping @Sendable (any StorageTransaction) throws -> T) async throws -> T {
        let clock = self.clock
        return try await pool.read { db in try body(SQLiteTransaction(db: db, now: clock.now())) }
    }

    package func readInline<T>(snapshot: Bool, _ body: (any StorageTransaction) throws -> T) throws -> T? {
        try pool.readInline(snapshot: snapshot) { db in try body(SQLiteTransaction(db: db, now: clock.now())) }
    }

    package func write<T: Sendable>(_ body: @escaping @Sendable (any StorageTransaction) throws -> T) async throws -> T {
        let clock = self.clock
        return try await pool.write { db in try body(SQLiteTransaction(db: db, now: clock.now())) }
    }

    package func makeChangeSignal() async throws -> any ChangeSignal {
        try await pool.makeChangeDetector()
    }

    package func checkpoint(truncating: Bool) async throws {
        if truncating {
            try await pool.checkpointTruncating()
        } else {
            try await pool.checkpointPassively()
        }
    }

    package var pendingWrites: Int { pool.pendingWrites }
    package var pendingReads: Int { pool.pendingReads }

    package func storageStatus() async throws -> StorageStatus {
        let path = pool.path
        let latest = Self.migrations.last?.version ?? 0
        return try await pool.read { db in
            let version = try Migrator(migrations: Self.migrations).appliedMigrations(db).last?.version ?? 0
            let status = StatusRecords(db: db)
            let counts = try status.tableNames().map { table in
                StorageStatus.TableCount(table: table, rows: try status.rowCount(table: table))
            }
            return StorageStatus(
                path: path, schemaVersion: version, latestKnownVersion: latest,
                fileBytes: Self.fileSize(path), walBytes: Self.fileSize(path + "-wal"),
                journalMode: try status.journalMode() ?? "unknown", tables: counts)
        }
    }

    package func checkIntegrity() async throws -> IntegrityReport {
        try await pool.read { db in
            let status = StatusRecords(db: db)
            return IntegrityReport(
                integrity: try status.integrityCheck(), foreignKeyViolations: try status.foreignKeyViolations(),
                migrationProblems: try Migrator(migrations: Self.migrations).problems(db))
        }
    }

    package func close() async {
        await pool.close()
    }

    private static func fileSize(_ path: String) -> Int64 {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        return (attributes?[.size] as? NSNumber)?.int64Value ?? 0
    }
}

/// A transaction on one connection: the repositories are views of it.
struct SQLiteTransaction: StorageTransaction {
    let db: Database
    let now: Int64

    var sessions: any SessionRepository { SessionRecords(db: db) }
    var details: any SessionDetailRepository { SessionDetailRecords(db: db) }
    var links: any SessionLinkRepository { SessionLinkRecords(db: db) }
    var listing: any SessionListRepository { SessionListRecords(db: db) }
    var executions: any ExecutionRepository { ExecutionRecords(db: db) }
    var queries: any StreamingQueryRepository { OwnedRecords(db: db) }
    var resources: any OwnedResourceRepository { OwnedRecords(db: db) }
    var events: any EventRepository { EventLog(db: db) }
    var subscriptions: any SubscriptionRepository { SubscriptionRecords(db: db) }
    var instances: any InstanceRepository { InstanceRecords(db: db) }
    var storeState: any StoreStateRepository { StoreStateRecords(db: db) }
}

extension SessionRecords: SessionRepository {}
extension SessionDetailRecords: SessionDetailRepository {}
extension SessionLinkRecords: SessionLinkRepository {}
extension SessionListRecords: SessionListRepository {}
extension ExecutionRecords: ExecutionRepository {}
extension OwnedRecords: StreamingQueryRepository, OwnedResourceRepository {}
extension EventLog: EventRepository {}
extension SubscriptionRecords: SubscriptionRepository {}
extension InstanceRecords: InstanceRepository {}
extension StoreStateRecords: StoreStateRepository {}

extension ChangeDetector: ChangeSignal {}

extension SQLiteError: StorageFailure {
    package var sessionStoreError: SessionStoreError {
        let name = code.primary.description
        let storageCode = name.hasPrefix("SQLITE_")
            ? SessionStoreError.Code.storage(named: String(name.dropFirst("SQLITE_".count))) : .storageError
        return SessionStoreError(code: storageCode, message: message, sqliteCode: code.rawValue, sql: sql)
    }

    package var isUniqueViolation: Bool { code == .constraintUnique }
}

extension DatabaseClosedError: StorageFailure {
    package var sessionStoreError: SessionStoreError {
        SessionStoreError(code: .storageClosed, message: "the store is closed")
    }

    package var isUniqueViolation: Bool { false }
}

extension DatabaseOverloadedError: StorageFailure {
    package var sessionStoreError: SessionStoreError {
        SessionStoreError(code: .storageOverloaded, message: description)
    }

    package var isUniqueViolation: Bool { false }
}

extension MigrationError: StorageFailure {
    package var sessionStoreError: SessionStoreError {
        SessionStoreError(code: SessionStoreError.Code(rawValue: code), message: message)
    }

    package var isUniqueViolation: Bool { false }
}
