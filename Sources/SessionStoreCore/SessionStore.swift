import Foundation
import Logging

/// Durable client sessions, on one SQLite file by default.
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
/// `async` and runs in a transaction of its storage backend (``StorageBackend``); with
/// SQLite, reads run on reader connections and writes are group-committed by one writer
/// connection. Several processes may open the same store.
public final class SessionStore: Sendable {
    /// The configuration the store was opened with.
    public let configuration: SessionStoreConfiguration
    /// What recovery did when this store opened; `nil` when there was nothing to recover.
    public let recovery: RecoveryReport?
    /// This process's row in `instances`.
    let instanceId: Int64
    /// The task that records this instance's heartbeat while the store is open.
    let keepalive = Locked<Task<Void, Never>?>(nil)
    /// Whether this instance serves (its sweeper runs), to register it again as such.
    let isServing = Locked(false)
    /// Where the data lives and the SQL that reaches it.
    package let backend: any StorageBackend
    let metrics: StoreMetrics
    /// Reads new events once per commit for every notification stream of the store.
    package let eventFollower: EventFollower
    /// The compiled ``SessionStoreConfiguration/redactionPattern``.
    package let redaction: Redaction
    var logger: Logger { configuration.logger.withCallMetadata() }
    var clock: any WallClock { configuration.clock }

    /// Where the data lives: the database file's path for SQLite.
    public var path: String { backend.location }

    private init(
        configuration: SessionStoreConfiguration, redaction: Redaction, backend: any StorageBackend,
        instanceId: Int64, recovery: RecoveryReport?
    ) {
        self.configuration = configuration
        self.redaction = redaction
        self.backend = backend
        self.instanceId = instanceId
        self.recovery = recovery
        self.metrics = StoreMetrics(factory: configuration.metricsFactory)
        self.eventFollower = EventFollower(backend: backend, logger: configuration.logger)
    }

    /// Checks `configuration`, opens the backend `open` makes (which creates or migrates
    /// its schema), then registers this process and recovers the work of processes that
    /// died with the store open (see ``RecoveryReport``). A backend's own `open` calls this.
    ///
    /// - Throws: ``SessionStoreError``: `INVALID_ARGUMENT.CONFIG_VALUE` for a configured
    ///   value outside the range its option takes, before `open` runs; what `open` throws,
    ///   wrapped.
    package static func open(
        configuration: SessionStoreConfiguration, backend open: () async throws -> any StorageBackend
    ) async throws -> SessionStore {
        try configuration.checkOptions()
        let redaction = try Redaction(pattern: configuration.redactionPattern)
        let logger = configuration.logger.withCallMetadata()
        do {
            let backend = try await open()
            let mode = configuration.recoveryMode
            let instanceTimeout = configuration.instanceTimeoutMs
            let tick = configuration.expiry.tick
            let host = configuration.hostIdentity
            let (instanceId, recovered): (Int64, (RecoveryReport, [EndedSession])?)
            do {
                (instanceId, recovered) = try await backend.write { db in
                    let now = db.now
                    let instanceId = try db.instances.register(host: host, pid: Int64(getpid()), at: now)
                    let recovered = try Recovery.run(
                        db, instance: instanceId, host: host, mode: mode, instanceTimeout: instanceTimeout, tick: tick, at: now)
                    return (instanceId, recovered)
                }
            } catch {
                await backend.close()
                throw error
            }
            let store = SessionStore(
                configuration: configuration, redaction: redaction, backend: backend, instanceId: instanceId,
                recovery: recovered?.0)
            if let (report, ended) = recovered {
                logger.debug(
                    "recovered after a crash",
                    metadata: [
                        "store.path": "\(backend.location)", "recovery.dead_instances": "\(report.deadInstances)",
                        "recovery.failed_executions": "\(report.failedExecutions)",
                        "recovery.detached_executions": "\(report.detachedExecutions)",
                        "recovery.ended_sessions": "\(report.endedSessions)",
                    ])
                for session in ended {
                    store.didEnd(session)
                }
            }
            if backend.sharedAcrossHosts {
                store.startKeepalive()
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
        // Stopped before the row goes: a heartbeat after it would register the instance again.
        if let keepalive = keepalive.mutex.withLock({ $0 }) {
            keepalive.cancel()
            await keepalive.value
        }
        await eventFollower.close()
        let instanceId = self.instanceId
        do {
            try await backend.write { db in
                let now = db.now
                try Recovery.detachRunning(db, instance: instanceId, reason: "server stopped", at: now)
                try Recovery.endServing(db, instance: instanceId, at: now)
                try db.instances.unregister(id: instanceId)
            }
        } catch {
            logger.warning("could not unregister the instance", metadata: ["error.message": "\(error)"])
        }
        await backend.close()
    }

    /// Calls waiting for the writer connection now (see
    /// ``SessionStoreConfiguration/maxPendingWrites``).
    package var pendingWrites: Int { backend.pendingWrites }

    /// Reads waiting for a reader connection now (see
    /// ``SessionStoreConfiguration/maxPendingReads``).
    package var pendingReads: Int { backend.pendingReads }

    /// Runs a read on a reader connection, mapping every error to ``SessionStoreError``.
    func read<T: Sendable>(_ body: @escaping @Sendable (any StorageTransaction) throws -> T) async throws(SessionStoreError) -> T {
        do {
            return try await backend.read(body)
        } catch {
            throw SessionStoreError.wrap(error)
        }
    }

    /// Runs a point read (a few indexed lookups) on the calling thread when a connection
    /// that cannot block is idle, else on a reader thread; `snapshot` false for a body
    /// that needs no one committed state (one statement).
    func quickRead<T: Sendable>(
        snapshot: Bool = true, _ body: @escaping @Sendable (any StorageTransaction) throws -> T
    ) async throws(SessionStoreError) -> T {
        do {
            if let value = try backend.readInline(snapshot: snapshot, body) {
                return value
            }
            return try await backend.read(snapshot: snapshot, body)
        } catch {
            throw SessionStoreError.wrap(error)
        }
    }

    /// Runs a write in the group-committed writer, mapping every error to
    /// ``SessionStoreError``. Returns after the commit.
    func write<T: Sendable>(_ body: @escaping @Sendable (any StorageTransaction) throws -> T) async throws(SessionStoreError) -> T {
        do {
            let result = try await backend.write(body)
            eventFollower.commitObserved()
            return result
        } catch {
            throw SessionStoreError.wrap(error)
        }
    }
}
