/// Where the service layer stops and a storage backend begins.
///
/// The service layer — validation, admission and limits, the execution status machine,
/// expiry arithmetic, events, notifications, the sweeper and recovery — is written once,
/// against this protocol and the repositories of ``StorageTransaction``. A backend is SQL
/// and connections: it runs transaction bodies, tells the service layer the time of each
/// transaction, signals that something may have changed, and stores and returns rows as
/// they are, deciding nothing.
///
/// ```swift
/// let key = try await backend.write { tx in
///     guard let row = try tx.sessions.find(key: key) else { return nil }
///     _ = try tx.sessions.touch(sessionRowId: row.id, now: tx.now, expireAt: tx.now + 60_000)
///     return row.key
/// }
/// ```
///
/// ## Transaction bodies
///
/// A body is synchronous and has no effect outside its transaction: it never suspends,
/// never sleeps, and touches nothing but the transaction it is given and its own local
/// values. So a backend may run it on a thread of its own (blocking calls never run on
/// the cooperative pool), group several bodies into one transaction (each in a
/// savepoint), and run it again from the start after a serialization failure or a lost
/// connection. A body that throws leaves no trace of its own writes.
///
/// ## The isolation contract
///
/// What the service layer relies on, under concurrent writers in several processes:
///
/// - **Serializable writes.** Write transactions behave as if they ran one at a time, in
///   some order: a body that reads a count (live sessions of a user, executions of a
///   session, the links above a session) and writes according to it sees no commit of
///   another writer in between. Limits stay exact, a link cycle cannot form from two
///   links that each looked acyclic, and a session's caps hold. SQLite meets this with
///   its one writer connection (`BEGIN IMMEDIATE`); a server backend meets it with
///   `SERIALIZABLE` transactions retried on serialization failure, or with locks that
///   give the same order.
/// - **A row changes once.** Conditional updates (`… WHERE state IN ('idle', 'active')`)
///   report whether they changed the row; two sweepers, or a sweeper and a close, that
///   end the same session see one `true` between them, so a session ends once and writes
///   one end event.
/// - **Reads see a snapshot.** A read body sees one committed state throughout, never a
///   half-written transaction.
/// - **The time of a transaction** is ``StorageTransaction/now``, read inside it: every
///   decision of the body that depends on time (expiry, abandonment, instance liveness)
///   uses it. A write that acts on a read's decision (a touch) carries the read's time.
///
/// ## The event contract
///
/// Events are appended inside the transaction that does what they record, and get a
/// sequence number (`seq`) that grows with each append. A reader following the log by
/// sequence number never skips an event: ``EventRepository/page(after:kinds:userId:limit:)``
/// reports in ``EventPage/through`` how far its page covers the log, and a backend whose
/// sequence numbers may commit out of order (a number taken by a transaction that commits
/// after a later number's) must report a `through` below every number still uncommitted.
/// SQLite's single writer commits numbers in order, so its `through` is the newest
/// sequence number of the snapshot.
///
/// ## Implementing a backend
///
/// A backend implements this protocol, a ``StorageTransaction`` whose repositories hold
/// its SQL, a ``ChangeSignal``, and maps its own errors to ``SessionStoreError`` through
/// ``StorageFailure``. Its schema holds the same tables and views as the SQLite
/// migrations (see `docs/architecture.md`).
package protocol StorageBackend: Sendable {
    /// Where the data lives: a file path, a server's address. For messages and
    /// ``SessionStore/path``.
    var location: String { get }

    /// Runs `body` in a read-only transaction on a connection of the backend's own and
    /// returns what it returns.
    func read<T: Sendable>(_ body: @escaping @Sendable (any StorageTransaction) throws -> T) async throws -> T

    /// Runs `body` on a reader connection; with `snapshot` false the body runs one
    /// statement, or several that need not see one committed state, and a backend may
    /// skip the transaction around it (a server backend saves the round trips of `BEGIN`
    /// and `COMMIT`). The default runs ``read(_:)``.
    func read<T: Sendable>(snapshot: Bool, _ body: @escaping @Sendable (any StorageTransaction) throws -> T) async throws -> T

    /// Runs a point read on the calling thread when the backend can do so without
    /// blocking; `nil` when it cannot, and the caller then uses ``read(snapshot:_:)``. A
    /// backend without such reads returns `nil`.
    func readInline<T>(snapshot: Bool, _ body: (any StorageTransaction) throws -> T) throws -> T?

    /// Runs `body` in a write transaction and returns after its commit. Cancellation does
    /// not stop a write: one called from a cancelled task is still submitted and run, and
    /// cancelling the caller later does not withdraw it; it commits, or fails, as it would
    /// have, and the call returns then (reattach's detach when its stream ends relies on
    /// it).
    func write<T: Sendable>(_ body: @escaping @Sendable (any StorageTransaction) throws -> T) async throws -> T

    /// A cheap test of whether anything may have committed since it last answered: the
    /// event follower's wake-up ("look again"), never a payload.
    func makeChangeSignal() async throws -> any ChangeSignal

    /// Copies pending log pages back into the store where the backend keeps such a log
    /// (SQLite's WAL); nothing elsewhere. The sweeper calls it between passes without
    /// waiting for readers; `truncating` waits for them and empties the log (a benchmark
    /// settles the store with it before a measured pass).
    func checkpoint(truncating: Bool) async throws

    /// Writes waiting for a connection now.
    var pendingWrites: Int { get }
    /// Reads waiting for a connection now.
    var pendingReads: Int { get }

    /// Whether processes of several hosts may share the store (a database server), so
    /// each open store records heartbeats by itself: another host cannot check its pid.
    /// False for a file of one host, whose processes are checked by pid. Default false.
    var sharedAcrossHosts: Bool { get }

    /// Schema version, sizes and the row count of every table.
    func storageStatus() async throws -> StorageStatus
    /// The backend's own consistency checks; changes nothing.
    func checkIntegrity() async throws -> IntegrityReport

    /// Finishes queued writes and closes every connection; later calls fail with
    /// `STORAGE.CLOSED`.
    func close() async
}

extension StorageBackend {
    package var sharedAcrossHosts: Bool { false }

    package func read<T: Sendable>(snapshot: Bool, _ body: @escaping @Sendable (any StorageTransaction) throws -> T) async throws -> T {
        try await read(body)
    }
}

/// Tells cheaply whether another connection, of this process or any other, may have
/// committed since the previous call.
package protocol ChangeSignal: Sendable {
    /// `true` on the first call, whenever something may have changed, and whenever the
    /// backend could not tell: a caller that reads on `true` never misses a change.
    func hasChanged() -> Bool
}

/// An error of a backend that knows the ``SessionStoreError`` it means.
package protocol StorageFailure: Error {
    /// The error as the service layer reports it (`STORAGE.*`, `SCHEMA.*`).
    var sessionStoreError: SessionStoreError { get }
    /// Whether a unique constraint refused a write (an id already taken).
    var isUniqueViolation: Bool { get }
}

/// One transaction, read-only or read-write, as its body sees it: the time it decides
/// by, and the repositories of the tables.
///
/// A repository method runs SQL and returns stored values; the rules that interpret
/// them (effective expiry, overdue sessions, limits) are the service layer's.
package protocol StorageTransaction {
    /// The time of the transaction, in milliseconds since the Unix epoch: read once, when
    /// the body starts, and the same for the rest of the body. A read that decides and the
    /// write that acts on its decision (a touch) use the read's time in both; a sweep pass
    /// uses its first batch's time throughout.
    var now: Int64 { get }

    var sessions: any SessionRepository { get }
    var details: any SessionDetailRepository { get }
    var links: any SessionLinkRepository { get }
    var listing: any SessionListRepository { get }
    var executions: any ExecutionRepository { get }
    var queries: any StreamingQueryRepository { get }
    var resources: any OwnedResourceRepository { get }
    var events: any EventRepository { get }
    var subscriptions: any SubscriptionRepository { get }
    var instances: any InstanceRepository { get }
    var storeState: any StoreStateRepository { get }
}
