import Foundation
import SessionStoreCore
import SwiftProtobuf

// Conversions between the store's values and the API's messages. Messages are built from
// what the store returns and never carry more: what a caller may not see is already
// absent from the store's answer.

extension Google_Protobuf_Timestamp {
    init(_ timestamp: Timestamp) {
        let (seconds, milliseconds) = timestamp.milliseconds.quotientAndRemainder(dividingBy: 1000)
        // Negative times keep nanos in 0..<1e9, as the Timestamp message requires.
        if milliseconds < 0 {
            self.init(seconds: seconds - 1, nanos: Int32(milliseconds + 1000) * 1_000_000)
        } else {
            self.init(seconds: seconds, nanos: Int32(milliseconds) * 1_000_000)
        }
    }
}

extension Google_Protobuf_Duration {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self.init(seconds: seconds, nanos: Int32(attoseconds / 1_000_000_000))
    }

    /// The duration, or `nil` when its fields disagree in sign or nanos is out of range:
    /// such a message is not a duration.
    var swiftDuration: Duration? {
        guard (-999_999_999...999_999_999).contains(nanos),
            seconds == 0 || nanos == 0 || (seconds > 0) == (nanos > 0)
        else { return nil }
        return .seconds(seconds) + .nanoseconds(Int64(nanos))
    }
}

extension Sessionstore_V1_SessionState {
    init(_ state: SessionState) {
        switch state {
        case .idle: self = .idle
        case .active: self = .active
        case .closing: self = .closing
        case .closed: self = .closed
        case .expired: self = .expired
        case .failed: self = .failed
        }
    }
}

extension Sessionstore_V1_Session {
    /// The whole session: a message that answers one session has no field to say part of
    /// it was left out (see ``ResponseBudget``).
    init(_ session: Session) {
        self.init()
        sessionKey = session.key
        userID = session.userId
        if let id = session.sessionId { sessionID = id }
        dataSource = session.dataSource
        type = session.type
        version = session.version
        if let identifier = session.identifier { self.identifier = identifier }
        utcOffset = Google_Protobuf_Duration(seconds: session.utcOffsetSeconds)
        state = Sessionstore_V1_SessionState(session.state)
        if case .after(let timeout) = session.timeout { self.timeout = Google_Protobuf_Duration(timeout) }
        createdAt = Google_Protobuf_Timestamp(session.createdAt)
        lastAccessAt = Google_Protobuf_Timestamp(session.lastAccessAt)
        if let expireAt = session.expireAt { self.expireAt = Google_Protobuf_Timestamp(expireAt) }
        if let endedAt = session.endedAt { self.endedAt = Google_Protobuf_Timestamp(endedAt) }
        if let reason = session.endReason { endReason = reason }
        if let address = session.clientAddress { clientAddress = address }
        if let user = session.impersonatedUser { impersonatedUser = user }
        details = session.details
        config = session.config
        parentSessionKeys = session.parents
        childSessionKeys = session.children
    }
}

extension Sessionstore_V1_ExecutionStatus {
    init(_ status: ExecutionStatus) {
        switch status {
        case .pending: self = .pending
        case .started: self = .started
        case .analyzed: self = .analyzed
        case .readyForExecution: self = .readyForExecution
        case .finished: self = .finished
        case .failed: self = .failed
        case .canceled: self = .canceled
        case .timedOut: self = .timedOut
        case .closed: self = .closed
        }
    }

    /// The store's status; `nil` for `UNSPECIFIED` and values of a later version.
    var storeStatus: ExecutionStatus? {
        switch self {
        case .pending: .pending
        case .started: .started
        case .analyzed: .analyzed
        case .readyForExecution: .readyForExecution
        case .finished: .finished
        case .failed: .failed
        case .canceled: .canceled
        case .timedOut: .timedOut
        case .closed: .closed
        case .unspecified, .UNRECOGNIZED: nil
        }
    }
}

extension Sessionstore_V1_Execution {
    init(_ execution: Execution) {
        self.init()
        operationID = execution.operationId
        sessionKey = execution.sessionKey
        userID = execution.userId
        jobTag = execution.jobTag
        status = Sessionstore_V1_ExecutionStatus(execution.status)
        tags = execution.tags
        if let statement = execution.statement { self.statement = statement }
        reattachable = execution.reattachable
        attached = execution.attached
        if let timeout = execution.timeout { self.timeout = Google_Protobuf_Duration(timeout) }
        createdAt = Google_Protobuf_Timestamp(execution.createdAt)
        if let at = execution.startedAt { startedAt = Google_Protobuf_Timestamp(at) }
        lastAttachedAt = Google_Protobuf_Timestamp(execution.lastAttachedAt)
        if let at = execution.endedAt { endedAt = Google_Protobuf_Timestamp(at) }
        if let at = execution.closedAt { closedAt = Google_Protobuf_Timestamp(at) }
        if let at = execution.abandonedAt { abandonedAt = Google_Protobuf_Timestamp(at) }
        if let error = execution.error { self.error = error }
    }
}

extension Sessionstore_V1_StreamingQuery {
    init(_ query: StreamingQuery) {
        self.init()
        queryID = query.queryId
        runID = query.runId
        if let name = query.name { self.name = name }
        sessionKey = query.sessionKey
        if let id = query.operationId { operationID = id }
        tags = query.tags
        state = query.state == .active ? .active : .stopped
        registeredAt = Google_Protobuf_Timestamp(query.registeredAt)
        if let at = query.stoppedAt { stoppedAt = Google_Protobuf_Timestamp(at) }
        if let reason = query.stopReason { stopReason = reason }
    }
}

extension Sessionstore_V1_OwnedResource {
    init(_ resource: OwnedResource) {
        self.init()
        sessionKey = resource.sessionKey
        kind = resource.kind
        name = resource.name
        bytes = resource.bytes
        createdAt = Google_Protobuf_Timestamp(resource.createdAt)
    }
}

extension Sessionstore_V1_SessionStartNotification {
    init(_ start: SessionNotification) {
        self.init()
        sessionKey = start.sessionKey
        dataSource = start.dataSource
        seq = start.seq
    }
}

extension Sessionstore_V1_SessionStopNotification {
    init(_ stop: SessionNotification) {
        self.init()
        sessionKey = stop.sessionKey
        dataSource = stop.dataSource
        seq = stop.seq
        if let state = stop.endState { endState = Sessionstore_V1_SessionState(state) }
        if let reason = stop.reason { self.reason = reason }
    }
}

extension Sessionstore_V1_Event {
    init(_ event: StoreEvent) {
        self.init()
        seq = event.seq
        at = Google_Protobuf_Timestamp(event.at)
        kind = event.kind.rawValue
        if let key = event.sessionKey { sessionKey = key }
        if let user = event.userId { userID = user }
        if let source = event.dataSource { dataSource = source }
        if let id = event.operationId { operationID = id }
        payload = event.payload
    }
}

extension Sessionstore_V1_GetSessionTreeResponse {
    /// `tree` as far as `budget` lets it: the nodes nearest the root that fit, then the
    /// edges between them that fit; `truncated` when the walk or the budget left any out.
    init(_ tree: SessionTree, within budget: ResponseBudget) throws {
        self.init()
        var budget = budget
        let nodes = try budget.fill(tree.nodes) { Sessionstore_V1_Session($0.session) }
        self.nodes = nodes.messages
        // Only the edges between nodes sent, so each edge names two nodes of the answer.
        var links = tree.edges
        if nodes.cut {
            let sent = Set(nodes.messages.map(\.sessionKey))
            links.removeAll { !sent.contains($0.parent) || !sent.contains($0.child) }
        }
        let edges = try budget.fill(links) { edge in
            var message = Sessionstore_V1_SessionTreeEdge()
            message.parentSessionKey = edge.parent
            message.childSessionKey = edge.child
            return message
        }
        self.edges = edges.messages
        truncated = tree.truncated || nodes.cut || edges.cut
    }
}

extension Sessionstore_V1_SessionTouch {
    /// One key's answer of a batch touch; an unknown key (or another principal's) is
    /// `RESULT_NOT_FOUND` with `INVALID_HANDLE.SESSION_NOT_FOUND`, as TouchSession fails.
    init(_ touch: KeyTouch) {
        self.init()
        sessionKey = touch.key
        switch touch.result {
        case .live?:
            result = .live
            if let expireAt = touch.expireAt { self.expireAt = Google_Protobuf_Timestamp(expireAt) }
        case .closed?: result = .closed
        case .expired?: result = .expired
        case .unknown?:
            result = .notFound
            errorCode = SessionStoreError.Code.sessionNotFound.rawValue
        case nil:
            result = .invalid
            errorCode = touch.error?.code.rawValue ?? SessionStoreError.Code.handleFormat.rawValue
        }
    }
}
