import Foundation

/// One entry of the event log: the durable record of a change, written in the same
/// transaction as the change.
///
/// `seq` only grows, so a reader resumes with `listEvents(after: lastSeen)`.
public struct StoreEvent: Sendable, Hashable, Codable {
    /// Position in the log; strictly increasing, never reused.
    public var seq: Int64
    /// When the change was committed.
    public var at: Timestamp
    /// What happened.
    public var kind: EventKind
    /// The session it is about; `nil` for store-wide events.
    public var sessionKey: String?
    /// The user of that session, or of a refused open.
    public var userId: String?
    /// The data source of that session, or of a refused open.
    public var dataSource: String?
    /// The execution it is about, for `execution.*` events.
    public var operationId: String?
    /// The kind's own fields: a reason, old and new values, the limit that refused.
    public var payload: [String: String]

    package init(
        seq: Int64, at: Timestamp, kind: EventKind, sessionKey: String?, userId: String?, dataSource: String?,
        operationId: String?, payload: [String: String]
    ) {
        self.seq = seq
        self.at = at
        self.kind = kind
        self.sessionKey = sessionKey
        self.userId = userId
        self.dataSource = dataSource
        self.operationId = operationId
        self.payload = payload
    }
}

/// The kind of a ``StoreEvent``: a stable dotted name such as `session.started`, stored
/// in the `events.kind` column and printed as it is.
///
/// Every kind the library writes is a static member. A kind read from a file written by
/// a later build keeps its string.
public struct EventKind: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    /// The stored name, e.g. `session.ended`.
    public let rawValue: String

    /// The kind named `rawValue`.
    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// The kind named by the literal.
    public init(stringLiteral value: String) {
        self.init(rawValue: value)
    }

    /// Decodes the plain string, as ``StoreEvent`` is written in JSON.
    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    /// Encodes the plain string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// The stored name.
    public var description: String { rawValue }

    /// A session was opened; payload `type`, `timeoutMs` (`never` when it never expires),
    /// and `sessionId`, `clientAddress`, `impersonatedUser` when given, and `principal`
    /// when a ``ScopedSessionStore`` opened it for a user other than its principal.
    public static let sessionStarted: EventKind = "session.started"
    /// A session ended; payload `state` (`closed`, `expired` or `failed`) and `reason`.
    public static let sessionEnded: EventKind = "session.ended"
    /// An open was refused (no session key); payload `code` and `message`, with `limit`
    /// and `live` (the live sessions counted) when a session limit refused.
    public static let sessionRefused: EventKind = "session.refused"
    /// A network front end refused a call before it reached the store: no or an unknown
    /// credential (no session). Payload `method`, `clientAddress` when known, `reason`, and
    /// `count` when the event stands for several refusals; the credential itself is never
    /// recorded.
    public static let callRefused: EventKind = "call.refused"
    /// A config value changed; payload `name`, `new`, and `old` unless it was unset.
    public static let configChanged: EventKind = "session.config_changed"
    /// Details were set; payload `names`, comma-separated and sorted.
    public static let detailsUpdated: EventKind = "session.details_updated"
    /// Details were removed; payload `names` of those that were set, comma-separated and
    /// sorted.
    public static let detailsRemoved: EventKind = "session.details_removed"
    /// The session's identifier changed; payload `old` and `new`, each absent when `nil`.
    public static let identifierChanged: EventKind = "session.identifier_changed"
    /// A child session was linked under this one; payload `child`, the child's key, and
    /// `childUser`, its user (absent from events of earlier builds). A
    /// ``ScopedSessionStore`` shows `child` only when its principal may act on that user.
    public static let sessionLinked: EventKind = "session.linked"
    /// An execution was created; payload `tags` (comma-separated, sorted) and
    /// `reattachable`.
    public static let executionCreated: EventKind = "execution.created"
    /// An execution changed status; payload `from`, `to`, `error` for a failure, and
    /// `reason` when the store moved it (interrupt, session end, abandonment, timeout,
    /// restart).
    public static let executionStatus: EventKind = "execution.status_changed"
    /// A client attached to an execution; no payload.
    public static let executionAttached: EventKind = "execution.attached"
    /// A client detached from an execution; payload `reason` when recovery detached it
    /// after a crash.
    public static let executionDetached: EventKind = "execution.detached"
    /// An execution was abandoned, detached past the detached timeout; payload
    /// `lastAttachedAt`.
    public static let executionAbandoned: EventKind = "execution.abandoned"
    /// A running execution was canceled by an interrupt; payload `reason`.
    public static let executionInterrupted: EventKind = "execution.interrupted"
    /// A streaming query was registered; payload `queryId` and `runId`.
    public static let queryRegistered: EventKind = "streaming_query.registered"
    /// A streaming query stopped; payload `queryId` and `reason`.
    public static let queryStopped: EventKind = "streaming_query.stopped"
    /// A streaming query was removed; payload `queryId`.
    public static let queryRemoved: EventKind = "streaming_query.removed"
    /// The session took ownership of a resource; payload `kind`, `name` and `bytes`.
    public static let resourceAdded: EventKind = "resource.added"
    /// A resource was released, by the client or at the session's end; payload `kind`,
    /// `name`, `bytes`, `createdAt` (milliseconds since the Unix epoch) and `reason`
    /// (`released by client`, or `session closed`, `session expired`, `session failed`).
    /// ``SessionStore/resourceReleases(subscription:pollInterval:)`` reads them.
    public static let resourceReleased: EventKind = "resource.released"
    /// Recovery finished dead instances' work, or re-armed sessions after the last
    /// serving process went away (no session); payload `deadInstances`,
    /// `failedExecutions`, `detachedExecutions`, `endedSessions`, and `rearmEpoch` and
    /// `servingLastSeen` when sessions were re-armed.
    public static let storeRecovered: EventKind = "store.recovered"
    /// The sweeper found its previous pass far behind (no session); the overdue sessions
    /// expire in batches. Payload `behindMs`, `behindTicks` and `reason`.
    public static let stormGuard: EventKind = "sweeper.storm_guard"

    /// Every kind the store writes. A filter naming another kind can never match, so a
    /// network front end refuses it (`INVALID_ARGUMENT.EVENT_KIND`).
    public static let known: Set<EventKind> = [
        sessionStarted, sessionEnded, sessionRefused, callRefused, configChanged, detailsUpdated, detailsRemoved,
        identifierChanged, sessionLinked, executionCreated, executionStatus, executionAttached, executionDetached,
        executionAbandoned, executionInterrupted, queryRegistered, queryStopped, queryRemoved, resourceAdded,
        resourceReleased, storeRecovered, stormGuard,
    ]
}

/// Which events ``SessionStore/listEvents(after:limit:filter:)`` returns.
public struct EventFilter: Sendable, Hashable {
    /// Only events about this session; `nil` for every session.
    public var sessionKey: String?
    /// Only events of this kind; `nil` for every kind.
    public var kind: EventKind?

    /// A filter on session and kind; `nil` leaves that side open.
    public init(sessionKey: String? = nil, kind: EventKind? = nil) {
        self.sessionKey = sessionKey
        self.kind = kind
    }
}
