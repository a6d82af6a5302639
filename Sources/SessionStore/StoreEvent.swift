import Foundation

/// One entry of the event log: the durable record of a change, written in the same
/// transaction as the change.
///
/// `seq` only grows, so a reader resumes with `events(after: lastSeen)`.
public struct StoreEvent: Sendable, Hashable, Codable {
    /// Position in the log; strictly increasing, never reused.
    public var seq: Int64
    public var at: Timestamp
    /// What happened; one of ``EventKind``'s values.
    public var kind: String
    public var sessionKey: String?
    public var userId: String?
    public var dataSource: String?
    public var operationId: String?
    /// The kind's own fields: a reason, old and new values, the limit that refused.
    public var payload: [String: String]
}

/// The kinds of ``StoreEvent``.
public enum EventKind {
    public static let sessionStarted = "session.started"
    public static let sessionEnded = "session.ended"
    public static let sessionRefused = "session.refused"
    public static let configChanged = "session.config_changed"
    public static let detailsUpdated = "session.details_updated"
    public static let detailsRemoved = "session.details_removed"
    public static let identifierChanged = "session.identifier_changed"
    public static let sessionLinked = "session.linked"
    public static let executionCreated = "execution.created"
    public static let executionStatus = "execution.status_changed"
    public static let executionAttached = "execution.attached"
    public static let executionDetached = "execution.detached"
    public static let executionAbandoned = "execution.abandoned"
    public static let executionInterrupted = "execution.interrupted"
    public static let queryRegistered = "streaming_query.registered"
    public static let queryStopped = "streaming_query.stopped"
    public static let queryRemoved = "streaming_query.removed"
    public static let resourceAdded = "resource.added"
    public static let resourceReleased = "resource.released"
    public static let storeRecovered = "store.recovered"
    public static let stormGuard = "sweeper.storm_guard"
}

/// Which events ``SessionStore/events(after:limit:filter:)`` returns.
public struct EventFilter: Sendable, Hashable {
    public var sessionKey: String?
    public var kind: String?

    public init(sessionKey: String? = nil, kind: String? = nil) {
        self.sessionKey = sessionKey
        self.kind = kind
    }
}
