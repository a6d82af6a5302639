import Logging
import Metrics

/// Everything a ``SessionStore`` can be told when it opens. Every option has a default,
/// so `SessionStoreConfiguration()` is a working store.
///
/// ```swift
/// var configuration = SessionStoreConfiguration(logger: logger)
/// configuration.limits.maxSessionsPerUser = 10
/// configuration.defaultTimeout = .after(.seconds(30 * 60))
/// let store = try await SessionStore.open(path: "sessions.sqlite", configuration: configuration)
/// ```
///
/// The command-line tool sets the same options by their kebab-case names
/// (`--set max-sessions-per-user=10`); see ``SessionStoreConfiguration/set(_:to:)``.
public struct SessionStoreConfiguration: Sendable {
    /// Limits enforced in the transaction that would exceed them.
    public var limits = SessionLimits()
    /// Timeout of a session opened without one. Default 1 hour (Spark Connect's idle
    /// session timeout).
    public var defaultTimeout: SessionTimeout = .after(.seconds(3600))
    /// Requested timeouts below this are raised to it (ZooKeeper's clamp). Default 1 s.
    public var minTimeout: Duration = .seconds(1)
    /// Requested timeouts above this are lowered to it. Default 7 days.
    public var maxTimeout: Duration = .seconds(7 * 86_400)
    /// Whether a session may ask never to expire. Default true.
    public var allowNeverTimeout = true
    /// Expiry granularity, in whole milliseconds: `expireAt = roundUp(now + timeout,
    /// tick)`, so a touch within the same bucket writes nothing (ZooKeeper's tickTime).
    /// Default 1 s.
    public var tick: Duration = .seconds(1)
    /// How long ended sessions stay as tombstones before they are pruned. Default 7 days.
    public var tombstoneRetention: Duration = .seconds(7 * 86_400)
    /// How long events are kept. Default 7 days.
    public var eventRetention: Duration = .seconds(7 * 86_400)
    /// A durable subscription (``SessionStore/subscription(named:)``) not acknowledged
    /// for this long is forgotten by the sweeper; it starts again from the oldest retained
    /// event if it comes back. Default 30 days.
    public var subscriptionRetention: Duration = .seconds(30 * 86_400)
    /// A detached execution not reattached within this is abandoned (Spark Connect's
    /// `spark.connect.execute.manager.detachedTimeout`). Default 5 min.
    public var detachedTimeout: Duration = .seconds(300)
    /// How long stopped streaming queries stay listed. Default 1 hour.
    public var streamingQueryRetention: Duration = .seconds(3600)
    /// Whether a session with an attached, running execution is spared by expiry
    /// (Hive's check-operation rule). Default true.
    public var runningSessionsDoNotExpire = true
    /// What recovery does with live sessions after a crash. Default `.rearm`.
    public var recoveryMode: RecoveryMode = .rearm
    /// An instance on another host whose heartbeat is older than this is taken for dead
    /// (on this host, a missing process is dead at once). Default 30 s.
    public var instanceTimeout: Duration = .seconds(30)
    /// How often an open store records its instance's heartbeat; a running sweeper also
    /// records one with its passes. Keep it well under ``instanceTimeout``. Default 5 s.
    public var heartbeatInterval: Duration = .seconds(5)
    /// The host identity this process registers its instance with; `nil` (the default)
    /// uses the host name. Instances of the same identity are checked by pid (a missing
    /// process is dead at once), others by heartbeat. Give each host, container or
    /// network namespace sharing one PostgreSQL store its own.
    public var instanceHost: String?
    /// The storm guard: a sweeper that finds its previous pass more than this many ticks
    /// ago (suspended process, clock jump) records a `sweeper.storm_guard` event and a
    /// warning. The sessions that fell due meanwhile are expired for every reader already;
    /// the sweeper ends them in batches of ``sweepBatchSize``. Default 10.
    public var maxSweepLagTicks: Int64 = 10
    /// Sessions one expiry transaction ends at most; the rest wait for the next batch.
    /// Default 100.
    public var sweepBatchSize = 100
    /// Told about each owned resource released when a session ends or by
    /// ``SessionStore/releaseResource(key:kind:name:)``, after the release is
    /// committed, so the service can delete the real thing. Default: nobody.
    ///
    /// The guarantee is narrow: it is called in the process that released the resource
    /// only, at most once. Releases done by another process (the sweeper of `sessionctl
    /// serve`, another service on the file) never reach it, and a crash between the
    /// commit and the call loses the call. To learn of every release from any process,
    /// at least once, also while the service was down, follow
    /// ``SessionStore/resourceReleases(subscription:pollInterval:)`` instead.
    public var resourceReleaseHandler: (@Sendable (OwnedResource) -> Void)?
    /// How commits reach the disk. Default `.normal`.
    public var durability: Durability = .normal
    /// How long a connection waits for another process's write lock. Default 5 s.
    public var busyTimeout: Duration = .seconds(5)
    /// Reader connections beside the writer. Default 2.
    public var readerCount = 2
    /// The most write requests one transaction groups; 1 turns group commit off.
    /// Default 256.
    public var maxWriteBatch = 256
    /// The most calls that may wait for the writer connection; one more fails at once
    /// with `STORAGE.OVERLOADED` instead of queuing, so memory stays bounded when calls
    /// arrive faster than they commit. Default 10,000.
    public var maxPendingWrites = 10_000
    /// The most reads that may wait for a reader connection; one more fails at once with
    /// `STORAGE.OVERLOADED`. Default 10,000.
    public var maxPendingReads = 10_000
    /// Decides whether the credentials given at open admit the user. Default: trust
    /// the calling service.
    public var authenticator: any SessionAuthenticator = TrustingAuthenticator()
    /// Decides which principal may act as which user. Default: nobody may act as
    /// someone else.
    public var impersonationPolicy: any ImpersonationPolicy = NoImpersonation()
    /// Config names whose values are redacted in `session.config_changed` events, log
    /// lines and `sessionctl` listings (Spark's `spark.redaction.regex`): a regular
    /// expression matched case-insensitively anywhere in the name. The stored config keeps
    /// the real values for the owner. Checked when the store opens. To redact nothing, use
    /// a pattern no name matches, such as `^$`. Default
    /// ``defaultRedactionPattern``.
    public var redactionPattern = SessionStoreConfiguration.defaultRedactionPattern
    /// Where the library logs; it never bootstraps logging itself. Default: discards.
    public var logger = Logger(label: "SessionStore", factory: { _ in SwiftLogNoOpLogHandler() })
    /// Where the library records metrics; `nil` uses whatever the process bootstrapped
    /// (`MetricsSystem.factory`, a no-op until the application sets one).
    public var metricsFactory: (any MetricsFactory)?
    /// The wall clock for timestamps and expiry. Default: the system clock.
    public var clock: any WallClock = SystemWallClock()
    /// Sees the SQL of every statement the store's connections prepare; for the
    /// package's query-plan tests.
    package var statementObserver: (@Sendable (String) -> Void)?

    /// Every option at its default, with `logger` and `clock` when given.
    public init(logger: Logger? = nil, clock: (any WallClock)? = nil) {
        if let logger { self.logger = logger }
        if let clock { self.clock = clock }
    }
}

extension SessionStoreConfiguration {
    /// Every option's value, checked once when the store opens against what the option
    /// takes by name: the same ranges, whether set by name or through its property.
    ///
    /// - Throws: `INVALID_ARGUMENT.CONFIG_VALUE` naming the first option whose value is
    ///   out of its range, such as a duration that is negative, below the option's
    ///   minimum or beyond `Int64` milliseconds, or a count such as a `readerCount` of 0.
    func checkOptions() throws(SessionStoreError) {
        for option in Self.options {
            try option.check(self)
        }
    }

    var minTimeoutMs: Int64 { minTimeout.wholeMilliseconds }
    var maxTimeoutMs: Int64 { maxTimeout.wholeMilliseconds }
    var tickMs: Int64 { tick.wholeMilliseconds }
    var tombstoneRetentionMs: Int64 { tombstoneRetention.wholeMilliseconds }
    var eventRetentionMs: Int64 { eventRetention.wholeMilliseconds }
    var subscriptionRetentionMs: Int64 { subscriptionRetention.wholeMilliseconds }
    var detachedTimeoutMs: Int64 { detachedTimeout.wholeMilliseconds }
    var streamingQueryRetentionMs: Int64 { streamingQueryRetention.wholeMilliseconds }
    var instanceTimeoutMs: Int64 { instanceTimeout.wholeMilliseconds }
    var heartbeatIntervalMs: Int64 { heartbeatInterval.wholeMilliseconds }
    /// ``instanceHost``, or the host name.
    package var hostIdentity: String { instanceHost ?? InstanceRow.currentHost }
}

/// What the first open after the last serving process (one running ``ExpirySweeper``)
/// went away, crashed or stopped cleanly, does with the live sessions.
public enum RecoveryMode: String, Sendable, CaseIterable {
    /// ZooKeeper's rule: the time no server was there does not count. A live session that
    /// fell due after the serving process was last seen gets a full timeout from the open
    /// before it may expire; one due before stays expired. No session once expired for a
    /// reader lives again.
    case rearm
    /// Sessions keep their expiry times; those due while no serving process ran are
    /// expired.
    case strict
}

/// Limits on what sessions may hold and how many may be live. `nil` means unlimited.
///
/// What one session may hold is bounded by default, so no client can grow a session (and
/// the transaction that ends it) without limit: config entries, details, tags, resources
/// and streaming queries each have a default cap, and ids, values and payloads a size.
public struct SessionLimits: Sendable, Hashable {
    /// Live sessions in the whole store.
    public var maxSessions: Int?
    /// Live sessions of one user (Hive's `hive.server2.limit.connections.per.user`).
    public var maxSessionsPerUser: Int?
    /// Live sessions from one client address (Hive's `...per.ipaddress`).
    ///
    /// Skipped for a session opened without ``OpenSessionRequest/clientAddress``, which
    /// is not counted either: the limit holds only when every open names its address.
    public var maxSessionsPerAddress: Int?
    /// Live sessions of one user from one address (Hive's `...per.user.ipaddress`).
    ///
    /// Skipped, like ``maxSessionsPerAddress``, for a session opened without a client
    /// address.
    public var maxSessionsPerUserAddress: Int?
    /// Live sessions of one data source.
    public var maxSessionsPerDataSource: Int?
    /// Details one session may hold. Default 256.
    public var maxDetailsPerSession = 256
    /// Config entries one session may hold, those set at open included. Default 256.
    public var maxConfigPerSession = 256
    /// Tags one execution, or one streaming query, may carry (a query started by an
    /// execution carries the execution's tags as well). Default 64.
    public var maxTagsPerExecution = 64
    /// Resources one session owns at once, whatever their size; releasing one makes
    /// room. Default 10,000.
    public var maxResourcesPerSession = 10_000
    /// Streaming queries one session keeps, active or stopped (a stopped query is kept
    /// until it is removed or ``SessionStoreConfiguration/streamingQueryRetention``
    /// passes). Default 1,000.
    public var maxQueriesPerSession = 1_000
    /// Bytes (UTF-8) of an id: user id, client session id, data source, type,
    /// identifier, address, detail and config names. Default 1024.
    public var maxIdBytes = 1024
    /// Bytes (UTF-8) of one detail or config value. Default 64 KiB.
    public var maxValueBytes = 65_536
    /// Running executions in one session (pending to ready for execution).
    public var maxConcurrentExecutionsPerSession: Int?
    /// Executions one session keeps unclosed, running or ended but not closed; creating
    /// one more is refused with `LIMIT_EXCEEDED.UNCLOSED_EXECUTIONS_PER_SESSION` until one
    /// is closed. Bounds the rows a session's end has to close. Default 1,000.
    public var maxUnclosedExecutionsPerSession = 1_000
    /// Active streaming queries in one session.
    public var maxStreamingQueriesPerSession: Int?
    /// Total bytes of the resources one session owns. `nil` (unlimited) still keeps the
    /// total within `Int64.max`.
    public var maxResourceBytesPerSession: Int64?
    /// Bytes of an execution's statement or request payload. Default 1 MiB.
    public var maxPayloadBytes = 1_048_576
    /// Links one session may take part in, as parent or as child; a link past it is
    /// refused with `LIMIT_EXCEEDED.LINKS_PER_SESSION`. Default 1024.
    public var maxLinksPerSession = 1024
    /// Sessions one ``SessionStore/sessionTree(key:)`` returns at most, the root
    /// included (at least 1); past it the tree is cut off and marked
    /// ``SessionTree/truncated``. Default 10,000.
    public var maxTreeNodes = 10_000
    /// Links from the root past which ``SessionStore/sessionTree(key:)`` reads no
    /// deeper: the tree holds depths 0 through this and is marked
    /// ``SessionTree/truncated`` when a session lies beyond. Default 64.
    public var maxTreeDepth = 64

    /// No limits on live sessions; the default per-session and size limits.
    public init() {}
}

/// How a commit reaches the disk.
///
/// On SQLite: <https://www.sqlite.org/pragma.html#pragma_synchronous>.
public enum Durability: String, Sendable, CaseIterable, Codable {
    /// A commit survives a crash of the process; the last commits may be lost if the
    /// machine loses power (SQLite: `synchronous=NORMAL` in WAL mode).
    case normal
    /// A commit survives power loss too (SQLite: `synchronous=FULL`, the WAL synced on
    /// every commit; group commit keeps it affordable under concurrency).
    case full
}
