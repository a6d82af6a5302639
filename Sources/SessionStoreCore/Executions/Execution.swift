import Foundation

/// Where an execution is in its life (Spark Connect's `ExecuteStatus`, with Hive's
/// query timeout as `timedOut`).
///
/// ```
/// pending → started → analyzed → readyForExecution → finished | failed | canceled | timedOut → closed
/// ```
///
/// Spark's shortcuts are allowed too: a command finishes straight from `started` or
/// `analyzed`, analysis may be reported again (`analyzed → analyzed`), and any running
/// status may fail, be canceled or time out. ``allowedNext`` is the whole table.
///
/// When its session ends (closed, expired or failed), every execution ends `closed`
/// with `closedAt` set, as Spark Connect releases a session's executions: a running one
/// is canceled, then closed (`ExecuteHolder.close`), a finished one closed, each step a
/// status change the table allows, with its event.
public enum ExecutionStatus: String, Sendable, Codable, CaseIterable {
    case pending
    case started
    case analyzed
    case readyForExecution
    case finished
    case failed
    case canceled
    case timedOut
    case closed

    /// Not yet finished: counts against the concurrent-executions limit and keeps an
    /// attached session `active`.
    public var isRunning: Bool {
        switch self {
        case .pending, .started, .analyzed, .readyForExecution: true
        default: false
        }
    }

    /// Finished, failed, canceled or timed out: waiting to be closed.
    public var isTerminal: Bool {
        switch self {
        case .finished, .failed, .canceled, .timedOut: true
        default: false
        }
    }

    /// The statuses this one may move to.
    public var allowedNext: Set<ExecutionStatus> {
        switch self {
        case .pending: [.started, .failed, .canceled, .timedOut]
        case .started: [.analyzed, .finished, .failed, .canceled, .timedOut]
        case .analyzed: [.analyzed, .readyForExecution, .finished, .failed, .canceled, .timedOut]
        case .readyForExecution: [.finished, .failed, .canceled, .timedOut]
        case .finished, .failed, .canceled, .timedOut: [.closed]
        case .closed: []
        }
    }

    /// Whether the status machine allows moving from this status to `next`.
    public func canMove(to next: ExecutionStatus) -> Bool {
        allowedNext.contains(next)
    }
}

/// An execution (an operation) inside a session.
///
/// Encodes to the JSON `sessionctl exec` prints: times as ISO-8601 UTC text, the
/// timeout as `timeoutMs` in whole milliseconds, absent ones as `null`.
public struct Execution: Sendable, Hashable, Encodable {
    /// The execution's id (a UUID), unique within its session.
    public var operationId: String
    /// The key of the session it runs in.
    public var sessionKey: String
    /// The owner of that session.
    public var userId: String
    /// Spark's job tag: identifies the execution's work in the engine, as
    /// `SessionStore_User_<user>_Session_<session number>_Operation_<operation id>`. It
    /// never contains the session key, which proves ownership: a tag ends up in engine
    /// logs and UIs.
    public var jobTag: String
    /// Where the execution is in its status machine.
    public var status: ExecutionStatus
    /// The tags `interrupt(key:tag:)` selects it by.
    public var tags: [String]
    /// The statement it runs, if the client gave one.
    public var statement: String?
    /// The client's request as it gave it (Spark Connect's `ExecuteInfo.request`), stored
    /// and returned byte for byte; `nil` if it gave none, or once the execution ended longer
    /// than ``SessionStoreConfiguration/tombstoneRetention`` ago (the sweeper clears it).
    /// JSON carries it as Base64 text.
    public var request: Data?
    /// Whether a client may attach again after detaching, and a crash detaches it instead
    /// of failing it.
    public var reattachable: Bool
    /// Whether a client is attached to the execution's results.
    public var attached: Bool
    /// The execution's own timeout, in whole milliseconds; `nil` when it has none.
    public var timeout: Duration?
    /// When the execution was created.
    public var createdAt: Timestamp
    /// When it moved to `started`; `nil` before.
    public var startedAt: Timestamp?
    /// When a client last attached or detached (at first, its creation); abandonment
    /// counts from here.
    public var lastAttachedAt: Timestamp
    /// When it finished, failed, was canceled or timed out.
    public var endedAt: Timestamp?
    /// When it was closed (by its client, by abandonment, or by the end of its
    /// session); `nil` before.
    public var closedAt: Timestamp?
    /// When it was abandoned: detached longer than the detached timeout.
    public var abandonedAt: Timestamp?
    /// The failure's message, for `failed`.
    public var error: String?

    /// From creation to start: how long it waited.
    public var queuedTime: Duration? {
        startedAt.map { .milliseconds($0.milliseconds) - .milliseconds(createdAt.milliseconds) }
    }

    /// From start to end: how long it ran.
    public var runTime: Duration? {
        guard let startedAt, let endedAt else { return nil }
        return .milliseconds(endedAt.milliseconds) - .milliseconds(startedAt.milliseconds)
    }

    private enum CodingKeys: String, CodingKey {
        case operationId, sessionKey, userId, jobTag, status, tags, statement, request, reattachable, attached
        case timeout = "timeoutMs"
        case createdAt, startedAt, lastAttachedAt, endedAt, closedAt, abandonedAt, error
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(operationId, forKey: .operationId)
        try container.encode(sessionKey, forKey: .sessionKey)
        try container.encode(userId, forKey: .userId)
        try container.encode(jobTag, forKey: .jobTag)
        try container.encode(status, forKey: .status)
        try container.encode(tags, forKey: .tags)
        try container.encode(statement, forKey: .statement)
        try container.encode(request?.base64EncodedString(), forKey: .request)
        try container.encode(reattachable, forKey: .reattachable)
        try container.encode(attached, forKey: .attached)
        try container.encode(timeout?.wholeMilliseconds, forKey: .timeout)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(lastAttachedAt, forKey: .lastAttachedAt)
        try container.encode(endedAt, forKey: .endedAt)
        try container.encode(closedAt, forKey: .closedAt)
        try container.encode(abandonedAt, forKey: .abandonedAt)
        try container.encode(error, forKey: .error)
    }
}

/// What ``SessionStore/listActiveExecutions(limit:)`` answers (Spark Connect's
/// `Either[Long, Seq[ExecuteInfo]]`).
public enum ActiveExecutions: Sendable, Hashable {
    /// Nothing is running; when the last execution ended (`nil` if none ever did).
    case idleSince(Timestamp?)
    /// The running executions, across sessions, oldest first.
    case running([Execution])
}

/// A streaming query registered by a session.
public struct StreamingQuery: Sendable, Hashable, Codable {
    /// Whether a streaming query is running.
    public enum State: String, Sendable, Codable {
        case active
        case stopped
    }

    /// The query's id, unique within its session.
    public var queryId: String
    /// The id of this run of the query.
    public var runId: String
    /// The query's name, if it has one.
    public var name: String?
    /// The key of the session that registered it.
    public var sessionKey: String
    /// The execution that started it, if known; its tags select it for interrupts.
    public var operationId: String?
    /// Tags (sorted, without duplicates) whose interrupts stop the query.
    public var tags: [String]
    /// `active` until stopped, then `stopped`.
    public var state: State
    /// When the query was registered.
    public var registeredAt: Timestamp
    /// When it stopped; `nil` while active.
    public var stoppedAt: Timestamp?
    /// Why it stopped (a client's reason, an interrupt, the end of its session); `nil`
    /// while active.
    public var stopReason: String?

    package init(
        queryId: String, runId: String, name: String?, sessionKey: String, operationId: String?, tags: [String],
        state: State, registeredAt: Timestamp, stoppedAt: Timestamp?, stopReason: String?
    ) {
        self.queryId = queryId
        self.runId = runId
        self.name = name
        self.sessionKey = sessionKey
        self.operationId = operationId
        self.tags = tags
        self.state = state
        self.registeredAt = registeredAt
        self.stoppedAt = stoppedAt
        self.stopReason = stopReason
    }

    private enum CodingKeys: String, CodingKey {
        case queryId, runId, name, sessionKey, operationId, tags, state, registeredAt, stoppedAt, stopReason
    }

    /// Writes every field, absent ones as `null`, so readers of the JSON see one shape.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(queryId, forKey: .queryId)
        try container.encode(runId, forKey: .runId)
        try container.encode(name, forKey: .name)
        try container.encode(sessionKey, forKey: .sessionKey)
        try container.encode(operationId, forKey: .operationId)
        try container.encode(tags, forKey: .tags)
        try container.encode(state, forKey: .state)
        try container.encode(registeredAt, forKey: .registeredAt)
        try container.encode(stoppedAt, forKey: .stoppedAt)
        try container.encode(stopReason, forKey: .stopReason)
    }
}

/// Something a session owns that must be cleaned up when it ends (a ZooKeeper
/// ephemeral node, a Spark artifact or temp view).
public struct OwnedResource: Sendable, Hashable, Codable {
    /// The key of the session that owns it.
    public var sessionKey: String
    /// What sort of resource it is (an artifact, a temp view, a node); with `name`,
    /// unique within the session.
    public var kind: String
    /// The resource's name within its kind.
    public var name: String
    /// Its size, counted by the per-session resource-bytes limit.
    public var bytes: Int64
    /// When the session took ownership of it.
    public var createdAt: Timestamp

    package init(sessionKey: String, kind: String, name: String, bytes: Int64, createdAt: Timestamp) {
        self.sessionKey = sessionKey
        self.kind = kind
        self.name = name
        self.bytes = bytes
        self.createdAt = createdAt
    }
}
