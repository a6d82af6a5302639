import Logging
import SessionStoreSQLite

/// Durable client sessions on one SQLite file.
///
/// ```swift
/// let store = try await SessionStore.open(path: "sessions.sqlite")
/// let session = try await store.openSession(userId: "ada", sessionId: "notebook-1")
/// _ = try await store.touch(key: session.key)
/// try await store.closeSession(key: session.key, reason: "done")
/// await store.close()
/// ```
///
/// The store's own methods are unchecked and trusted: they act on any session whose key
/// they are given and list every user's sessions, executions and events. They are for
/// code in the process that decides access itself. Serve a caller that is not trusted
/// (a network client) through ``acting(as:)``, a ``ScopedSessionStore`` in which the
/// caller acts only on its own sessions and those the impersonation policy allows.
///
/// A store is `Sendable`: share one per process. Every call that touches storage is
/// `async`; reads run on reader connections and writes are group-committed by one writer
/// connection (see `DatabasePool` in SessionStoreSQLite). Several processes may open the
/// same file.
public final class SessionStore: Sendable {
    /// The database file.
    public let path: String
    /// The configuration the store was opened with.
    public let configuration: SessionStoreConfiguration
    /// What recovery did when this store opened; `nil` when there was nothing to recover.
    public let recovery: RecoveryReport?
    /// This process's row in `instances`.
    let instanceId: Int64
    let pool: DatabasePool
    let metrics: StoreMetrics
    /// Reads new events once per commit for every notification stream of the store.
    package let eventFollower: EventFollower
    /// The compiled ``SessionStoreConfiguration/redactionPattern``.
    package let redaction: Redaction
    var logger: Logger { configuration.logger.withCallMetadata() }
    var clock: any WallClock { configuration.clock }

    private init(
        path: String, configuration: SessionStoreConfiguration, redaction: Redaction, pool: DatabasePool,
        instanceId: Int64, recovery: RecoveryReport?
    ) {
        self.path = path
        self.configuration = configuration
        self.redaction = redaction
        self.pool = pool
        self.instanceId = instanceId
        self.recovery = recovery
        self.metrics = StoreMetrics(factory: configuration.metricsFactory)
        self.eventFollower = EventFollower(pool: pool, logger: configuration.logger)
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

    /// Opens (creating if needed, mode 0600) and migrates the database at `path`, then
    /// registers this process and recovers the work of processes that died with the
    /// file open (see ``RecoveryReport``).
    ///
    /// `path` is a file path, never an SQLite URI. A symbolic link is refused, and so is a
    /// file another user owns; a file of this user's that others may read is brought to
    /// mode 0600 (with its `-wal` and `-shm`), which a `debug` log line reports.
    ///
    /// - Throws: ``SessionStoreError`` with `STORAGE.CANTOPEN` when the file cannot be
    ///   opened or created, is a symbolic link or belongs to another user,
    ///   `STORAGE.NOTADB` when it is not a database (it is left untouched),
    ///   `SCHEMA.TOO_NEW` when a newer build wrote it,
    ///   `SCHEMA.UNKNOWN_MIGRATION` when it records a migration this build skipped, and
    ///   `SCHEMA.CHECKSUM_MISMATCH` when a migration it recorded differs from this build's;
    ///   `INVALID_ARGUMENT.CONFIG_VALUE` for a configured value outside the range its
    ///   option takes by name (a duration that is negative or beyond `Int64`
    ///   milliseconds, a count such as a reader count of 0, a negative limit), or a
    ///   ``SessionStoreConfiguration/redactionPattern``
    ///   that is not a regular expression, before the file is opened.
    public static func open(
        path: String, configuration: SessionStoreConfiguration = SessionStoreConfiguration()
    ) async throws -> SessionStore {
        try configuration.checkOptions()
        let redaction = try Redaction(pattern: configuration.redactionPattern)
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
        do {
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
                        logger.debug(
                            "applied migrations", metadata: ["store.path": "\(path)", "store.migrations": "\(applied)"])
                    }
                })
            let mode = configuration.recoveryMode
            let instanceTimeout = configuration.instanceTimeoutMs
            let tick = configuration.expiry.tick
            let (instanceId, recovered) = try await pool.write { db in
                let now = clock.now()
                let instanceId = try InstanceRecords.register(db, at: now)
                let recovered = try Recovery.run(
                    db, instance: instanceId, mode: mode, instanceTimeout: instanceTimeout, tick: tick, at: now)
                return (instanceId, recovered)
            }
            let store = SessionStore(
                path: path, configuration: configuration, redaction: redaction, pool: pool, instanceId: instanceId,
                recovery: recovered?.0)
            if let (report, ended) = recovered {
                logger.debug(
                    "recovered after a crash",
                    metadata: [
                        "store.path": "\(path)", "recovery.dead_instances": "\(report.deadInstances)",
                        "recovery.failed_executions": "\(report.failedExecutions)",
                        "recovery.detached_executions": "\(report.detachedExecutions)",
                        "recovery.ended_sessions": "\(report.endedSessions)",
                    ])
                for session in ended {
                    store.didEnd(session)
                }
            }
            return store
        } catch {
            throw SessionStoreError.wrap(error)
        }
    }

    /// Finishes queued writes and closes every connection. Calls made afterwards fail
    /// with `STORAGE.CLOSED`, and so do the store's notification streams once they have
    /// delivered what they buffered.
    ///
    /// A store whose sweeper was running stops serving here (see
    /// ``ExpirySweeper``): when it was the last serving process, the next open gives the
    /// sessions that fall due in between a full timeout.
    ///
    /// The clients attached to this process's running executions go away with it, so
    /// those executions are detached: a client may reattach to a reattachable one through
    /// another process within the detached timeout, after which the sweeper abandons it.
    public func close() async {
        await eventFollower.close()
        let instanceId = self.instanceId
        let clock = self.clock
        do {
            try await pool.write { db in
                let now = clock.now()
                try Recovery.detachRunning(db, instance: instanceId, reason: "server stopped", at: now)
                try Recovery.endServing(db, instance: instanceId, at: now)
                try InstanceRecords.unregister(db, id: instanceId)
            }
        } catch {
            logger.warning("could not unregister the instance", metadata: ["error.message": "\(error)"])
        }
        await pool.close()
    }

    /// Calls waiting for the writer connection now (see
    /// ``SessionStoreConfiguration/maxPendingWrites``).
    package var pendingWrites: Int { pool.pendingWrites }

    /// Reads waiting for a reader connection now (see
    /// ``SessionStoreConfiguration/maxPendingReads``).
    package var pendingReads: Int { pool.pendingReads }

    /// Runs a read on a reader connection, mapping every error to ``SessionStoreError``.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(SessionStoreError) -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw SessionStoreError.wrap(error)
        }
    }

    /// Runs a point read (a few indexed lookups) on the calling thread when a connection
    /// that cannot block is idle, else on a reader thread.
    func quickRead<T: Sendable>(
        snapshot: Bool = true, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws(SessionStoreError) -> T {
        do {
            if let value = try pool.readInline(snapshot: snapshot, body) {
                return value
            }
        } catch {
            throw SessionStoreError.wrap(error)
        }
        return try await read(body)
    }

    /// Runs a write in the group-committed writer, mapping every error to
    /// ``SessionStoreError``. Returns after the commit.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(SessionStoreError) -> T {
        do {
            let result = try await pool.write(body)
            eventFollower.commitObserved()
            return result
        } catch {
            throw SessionStoreError.wrap(error)
        }
    }
}
