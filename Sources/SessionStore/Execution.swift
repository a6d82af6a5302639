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

    public func canMove(to next: ExecutionStatus) -> Bool {
        allowedNext.contains(next)
    }
}

/// An execution (an operation) inside a session.
///
/// Encodes to the JSON `sessionctl exec` prints; absent times are `null`.
public struct Execution: Sendable, Hashable, Codable {
    public var operationId: String
    public var sessionKey: String
    public var userId: String
    /// Spark's job tag: identifies the execution's work in the engine.
    public var jobTag: String
    public var status: ExecutionStatus
    public var tags: [String]
    public var statement: String?
    public var reattachable: Bool
    /// Whether a client is attached to the execution's results.
    public var attached: Bool
    /// `nil` when the execution has no timeout of its own.
    public var timeoutMs: Int64?
    public var createdAt: Timestamp
    public var startedAt: Timestamp?
    public var lastAttachedAt: Timestamp
    /// When it finished, failed, was canceled or timed out.
    public var endedAt: Timestamp?
    public var closedAt: Timestamp?
    /// When it was abandoned: detached longer than the detached timeout.
    public var abandonedAt: Timestamp?
    /// The failure's message, for `failed`.
    public var error: String?

    /// From creation to start: how long it waited.
    public var queuedMs: Int64? {
        startedAt.map { $0.milliseconds - createdAt.milliseconds }
    }

    /// From start to end: how long it ran.
    public var runMs: Int64? {
        guard let startedAt, let endedAt else { return nil }
        return endedAt.milliseconds - startedAt.milliseconds
    }

    private enum CodingKeys: String, CodingKey {
        case operationId, sessionKey, userId, jobTag, status, tags, statement, reattachable, attached, timeoutMs
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
        try container.encode(reattachable, forKey: .reattachable)
        try container.encode(attached, forKey: .attached)
        try container.encode(timeoutMs, forKey: .timeoutMs)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(lastAttachedAt, forKey: .lastAttachedAt)
        try container.encode(endedAt, forKey: .endedAt)
        try container.encode(closedAt, forKey: .closedAt)
        try container.encode(abandonedAt, forKey: .abandonedAt)
        try container.encode(error, forKey: .error)
    }
}

/// What ``SessionStore/listActiveExecutions()`` answers (Spark Connect's
/// `Either[Long, Seq[ExecuteInfo]]`).
public enum ActiveExecutions: Sendable, Hashable {
    /// Nothing is running; when the last execution ended (`nil` if none ever did).
    case idleSince(Timestamp?)
    /// The running executions, across sessions, oldest first.
    case running([Execution])
}

/// A streaming query registered by a session.
public struct StreamingQuery: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Codable {
        case active
        case stopped
    }

    public var queryId: String
    public var runId: String
    public var name: String?
    public var sessionKey: String
    /// The execution that started it, if known; its tags select it for interrupts.
    public var operationId: String?
    public var tags: [String]
    public var state: State
    public var registeredAt: Timestamp
    public var stoppedAt: Timestamp?
    public var stopReason: String?
}

/// Something a session owns that must be cleaned up when it ends (a ZooKeeper
/// ephemeral node, a Spark artifact or temp view).
public struct OwnedResource: Sendable, Hashable, Codable {
    public var sessionKey: String
    public var kind: String
    public var name: String
    public var bytes: Int64
    public var createdAt: Timestamp
}
