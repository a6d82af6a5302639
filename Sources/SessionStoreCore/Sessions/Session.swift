import Foundation

/// Where a session is in its life.
///
/// `idle` ⇄ `active` while live; `closing` while being ended; then `closed` (by a
/// caller), `expired` (by the sweeper) or `failed` (by recovery or an error). Ended
/// sessions stay as tombstones for the configured retention.
public enum SessionState: String, Sendable, Codable, CaseIterable {
    case idle
    case active
    case closing
    case closed
    case expired
    case failed

    /// Live sessions can be used: `idle` and `active`.
    public var isLive: Bool { self == .idle || self == .active }

    /// Ended sessions are tombstones: `closed`, `expired` and `failed`.
    public var isEnded: Bool { self == .closed || self == .expired || self == .failed }
}

/// A session as stored, with its details, config and links.
///
/// Encodes to the JSON that `sessionctl` prints: times as ISO-8601 UTC text with
/// milliseconds, the timeout as `timeoutMs` in whole milliseconds, null for a session
/// that never expires.
public struct Session: Sendable, Hashable, Codable {
    /// The opaque handle: a UUID (version 7 layout) whose 74 random bits make it
    /// unguessable and whose time prefix keeps new keys in order.
    public var key: String
    /// The owner: the user who opened the session.
    public var userId: String
    /// The client's own session id, if it gave one.
    public var sessionId: String?
    /// The data source the session reads (Stream API).
    public var dataSource: String
    /// The session's type (Stream API).
    public var type: String
    /// The client protocol version (Stream API), at least 1.
    public var version: Int64
    /// A free-form identifier the client may change; `nil` when none.
    public var identifier: String?
    /// The client's offset from UTC in seconds, within ±18 hours.
    public var utcOffsetSeconds: Int64
    /// Where the session is in its life.
    public var state: SessionState
    /// How long the session may go without access; ``SessionTimeout/never`` when it
    /// never expires.
    public var timeout: SessionTimeout
    /// When the session was opened.
    public var createdAt: Timestamp
    /// The last access that moved the session's expiry; accesses within the same tick
    /// write nothing.
    public var lastAccessAt: Timestamp
    /// When the sweeper may end the session; `nil` when it never expires or has ended.
    public var expireAt: Timestamp?
    /// When the session was closed, expired or failed; `nil` while it has not ended.
    public var endedAt: Timestamp?
    /// Why it ended (the reason given to the close, `expired`, `server restarted`); `nil`
    /// while it has not ended.
    public var endReason: String?
    /// Where the client connected from, if given; counted by the per-address limits.
    public var clientAddress: String?
    /// The user the owner acts as, if any.
    public var impersonatedUser: String?
    /// Key-value details (Stream API).
    public var details: [String: String]
    /// Per-session configuration (Spark conf, Hive conf overlay).
    public var config: [String: String]
    /// Keys of the sessions this one is a child of, live or ended. A link outlives the
    /// sessions it joins: an ended parent stays listed, as a tombstone, until it is
    /// pruned after ``SessionStoreConfiguration/tombstoneRetention``.
    public var parents: [String]
    /// Keys of this session's children (associate sessions), live or ended. A link
    /// outlives the sessions it joins: an ended child stays listed, as a tombstone, until
    /// it is pruned after ``SessionStoreConfiguration/tombstoneRetention``.
    public var children: [String]

    /// Whether the session can be used.
    public var isLive: Bool { state.isLive }

    private enum CodingKeys: String, CodingKey {
        case key, userId, sessionId, dataSource, type, version, identifier, utcOffsetSeconds, state
        case timeout = "timeoutMs"
        case createdAt, lastAccessAt, expireAt, endedAt, endReason, clientAddress, impersonatedUser
        case details, config, parents, children
    }

    /// Writes every field, absent ones as `null`, so readers of the JSON see one shape.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key, forKey: .key)
        try container.encode(userId, forKey: .userId)
        try container.encode(sessionId, forKey: .sessionId)
        try container.encode(dataSource, forKey: .dataSource)
        try container.encode(type, forKey: .type)
        try container.encode(version, forKey: .version)
        try container.encode(identifier, forKey: .identifier)
        try container.encode(utcOffsetSeconds, forKey: .utcOffsetSeconds)
        try container.encode(state, forKey: .state)
        try container.encode(timeout, forKey: .timeout)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(lastAccessAt, forKey: .lastAccessAt)
        try container.encode(expireAt, forKey: .expireAt)
        try container.encode(endedAt, forKey: .endedAt)
        try container.encode(endReason, forKey: .endReason)
        try container.encode(clientAddress, forKey: .clientAddress)
        try container.encode(impersonatedUser, forKey: .impersonatedUser)
        try container.encode(details, forKey: .details)
        try container.encode(config, forKey: .config)
        try container.encode(parents, forKey: .parents)
        try container.encode(children, forKey: .children)
    }
}

/// A point in time, stored as milliseconds since the Unix epoch and written in JSON as
/// ISO-8601 UTC text with milliseconds (`2026-01-02T03:04:05.678Z`).
public struct Timestamp: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Milliseconds since the Unix epoch.
    public var milliseconds: Int64

    /// The time `milliseconds` after the Unix epoch.
    public init(milliseconds: Int64) {
        self.milliseconds = milliseconds
    }

    /// Whether `lhs` is earlier than `rhs`.
    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.milliseconds < rhs.milliseconds
    }

    /// The ISO-8601 text, as ``iso8601``.
    public var description: String { iso8601 }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    public var iso8601: String {
        let seconds = milliseconds.floorDivided(by: 1000)
        // The remainder, not `milliseconds - seconds * 1000`, which overflows near Int64.min.
        let remainder = milliseconds % 1000
        let millis = remainder < 0 ? remainder + 1000 : remainder
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
            Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(millis))
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int64.self) {
            milliseconds = number
            return
        }
        let text = try container.decode(String.self)
        guard let parsed = Timestamp(iso8601: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an ISO-8601 time: \(text)")
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(iso8601)
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.mmm]Z`.
    public init?(iso8601 text: String) {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) {
            milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
            return
        }
        formatter.formatOptions = [.withInternetDateTime]
        guard let date = formatter.date(from: text) else { return nil }
        milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
    }
}

extension Int64 {
    /// Division rounding toward negative infinity.
    func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
