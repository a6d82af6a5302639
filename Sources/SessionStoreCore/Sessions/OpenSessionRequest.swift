/// Everything a client may say when it opens a session.
///
/// ```swift
/// var request = OpenSessionRequest(userId: "ada")
/// request.sessionId = "notebook-1"
/// request.dataSource = "telemetry"
/// request.details = ["device": "sensor-7"]
/// request.timeout = .after(.seconds(300))
/// let session = try await store.openSession(request)
/// ```
public struct OpenSessionRequest: Sendable, Hashable {
    /// The owner: the authenticated principal.
    public var userId: String
    /// The client's own id for the session, unique per user among live sessions.
    public var sessionId: String?
    /// The data source the session reads (Stream API). Default `"default"`.
    public var dataSource = "default"
    /// The session's type (Stream API). Default `"Session"`.
    public var type = "Session"
    /// The client protocol version (Stream API). Default 1; must be at least 1.
    public var version: Int64 = 1
    /// A free-form identifier the client may change later.
    public var identifier: String?
    /// The client's offset from UTC in seconds, within ±18 hours.
    public var utcOffsetSeconds: Int64 = 0
    /// Key-value details (Stream API).
    public var details: [String: String] = [:]
    /// Per-session configuration (Spark conf, Hive conf overlay).
    public var config: [String: String] = [:]
    /// Keys of live sessions to link as children of the new one; at most
    /// ``SessionLimits/maxLinksPerSession``, each with room for one more link.
    public var associates: [String] = []
    /// Where the client connects from; counted by the per-address limits
    /// (``SessionLimits/maxSessionsPerAddress`` and
    /// ``SessionLimits/maxSessionsPerUserAddress``). Without an address those limits are
    /// skipped for this session, which is not counted against them either: a front end
    /// that enforces them must pass the peer's address.
    public var clientAddress: String?
    /// The user the principal acts as; checked by the impersonation policy.
    public var impersonatedUser: String?
    /// What the client presented, for the authenticator.
    public var credentials: String?
    /// `nil` takes the configured default; clamped to [min, max].
    public var timeout: SessionTimeout?
    /// Whether a closed (user, session id) may be opened again as a new session, and a
    /// live one returned as it is.
    public var reconnect = false

    /// A request by `userId`, optionally naming the session; every other field takes its
    /// default.
    public init(userId: String, sessionId: String? = nil) {
        self.userId = userId
        self.sessionId = sessionId
    }

    /// A request from the parts the `openSession(userId:…)` calls take.
    init(
        userId: String, sessionId: String?, dataSource: String, details: [String: String], config: [String: String],
        timeout: SessionTimeout?
    ) {
        self.init(userId: userId, sessionId: sessionId)
        self.dataSource = dataSource
        self.details = details
        self.config = config
        self.timeout = timeout
    }
}
