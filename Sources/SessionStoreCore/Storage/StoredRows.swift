import Foundation

/// A row of `sessions`: a ``Session`` without its details, config and links.
///
/// A backend gives the stored columns and the ``RearmState`` of the store; the
/// initialiser applies the effective-expiry rule
/// (``Expiry/effectiveExpireAt(stored:isLive:timeoutMs:lastAccessAt:rearm:)``), so every
/// backend shows the expiry the sweeper applies.
package struct SessionRow: Sendable {
    package var id: Int64
    package var key: String
    package var userId: String
    /// The client's own id for the session (`client_session_id`), not a row id.
    package var clientSessionId: String?
    package var dataSource: String
    package var type: String
    package var version: Int64
    package var identifier: String?
    package var utcOffsetSeconds: Int64
    package var clientAddress: String?
    package var impersonatedUser: String?
    package var state: SessionState
    package var timeoutMs: Int64?
    package var createdAt: Int64
    package var lastAccessAt: Int64
    /// The effective expiry: the one the sweeper applies, which may be later than the
    /// stored `expire_at`.
    package var expireAt: Int64?
    package var endedAt: Int64?
    package var endReason: String?
    package var configChanges: Int64
    package var statements: Int64
    package var failures: Int64

    package init(
        id: Int64, key: String, userId: String, clientSessionId: String?, dataSource: String, type: String,
        version: Int64, identifier: String?, utcOffsetSeconds: Int64, clientAddress: String?, impersonatedUser: String?,
        state: SessionState, timeoutMs: Int64?, createdAt: Int64, lastAccessAt: Int64, storedExpireAt: Int64?,
        rearm: RearmState, endedAt: Int64?, endReason: String?, configChanges: Int64, statements: Int64, failures: Int64
    ) {
        self.id = id
        self.key = key
        self.userId = userId
        self.clientSessionId = clientSessionId
        self.dataSource = dataSource
        self.type = type
        self.version = version
        self.identifier = identifier
        self.utcOffsetSeconds = utcOffsetSeconds
        self.clientAddress = clientAddress
        self.impersonatedUser = impersonatedUser
        self.state = state
        self.timeoutMs = timeoutMs
        self.createdAt = createdAt
        self.lastAccessAt = lastAccessAt
        self.expireAt = Expiry.effectiveExpireAt(
            stored: storedExpireAt, isLive: state.isLive, timeoutMs: timeoutMs, lastAccessAt: lastAccessAt, rearm: rearm)
        self.endedAt = endedAt
        self.endReason = endReason
        self.configChanges = configChanges
        self.statements = statements
        self.failures = failures
    }

    var subject: EventSubject {
        EventSubject(sessionKey: key, userId: userId, dataSource: dataSource)
    }

    /// The public value of this row with what it holds, read or just written.
    package func session(details: [String: String], config: [String: String], parents: [String], children: [String]) -> Session {
        Session(
            key: key, userId: userId, sessionId: clientSessionId, dataSource: dataSource, type: type, version: version,
            identifier: identifier, utcOffsetSeconds: utcOffsetSeconds, state: state,
            timeout: timeoutMs.map { .after(.milliseconds($0)) } ?? .never, createdAt: Timestamp(milliseconds: createdAt),
            lastAccessAt: Timestamp(milliseconds: lastAccessAt), expireAt: expireAt.map(Timestamp.init),
            endedAt: endedAt.map(Timestamp.init), endReason: endReason, clientAddress: clientAddress,
            impersonatedUser: impersonatedUser, details: details, config: config, parents: parents, children: children)
    }
}

/// What a touch needs to decide: the row id, state, timeout, effective expiry and user
/// of a session, read without the rest of its row.
package struct ExpiryProbe: Sendable {
    package let id: Int64
    package let state: SessionState
    var isLive: Bool { state.isLive }
    package let timeoutMs: Int64?
    /// The effective expiry when the backend read the re-arm state (it may skip it when the
    /// stored expiry is already past the bucket the touch moves to; the decision is the
    /// same either way).
    package let expireAt: Int64?
    /// The session's owner, for a touch in a scope.
    package let userId: String

    package init(
        id: Int64, state: SessionState, timeoutMs: Int64?, lastAccessAt: Int64, storedExpireAt: Int64?, rearm: RearmState,
        userId: String
    ) {
        self.id = id
        self.state = state
        self.timeoutMs = timeoutMs
        self.expireAt = Expiry.effectiveExpireAt(
            stored: storedExpireAt, isLive: state.isLive, timeoutMs: timeoutMs, lastAccessAt: lastAccessAt, rearm: rearm)
        self.userId = userId
    }
}

/// A column a limit counts live sessions by, and its value.
package struct ScopeColumn: Sendable {
    package enum Name: String, Sendable {
        case userId = "user_id"
        case dataSource = "data_source"
        case clientAddress = "client_address"
    }
    package let name: Name
    package let value: String

    package init(name: Name, value: String) {
        self.name = name
        self.value = value
    }
}

/// A row of `executions` with the key and owner of its session.
package struct ExecutionRow: Sendable {
    package var id: Int64
    package var sessionRowId: Int64
    package var sessionKey: String
    package var userId: String
    package var dataSource: String
    package var operationId: String
    package var jobTag: String
    package var status: ExecutionStatus
    package var statement: String?
    package var request: Data?
    package var reattachable: Bool
    package var attached: Bool
    package var timeoutMs: Int64?
    package var createdAt: Int64
    package var startedAt: Int64?
    package var lastAttachedAt: Int64
    package var endedAt: Int64?
    package var closedAt: Int64?
    package var abandonedAt: Int64?
    package var error: String?

    package init(
        id: Int64, sessionRowId: Int64, sessionKey: String, userId: String, dataSource: String, operationId: String,
        jobTag: String, status: ExecutionStatus, statement: String?, request: Data?, reattachable: Bool, attached: Bool,
        timeoutMs: Int64?, createdAt: Int64, startedAt: Int64?, lastAttachedAt: Int64, endedAt: Int64?,
        closedAt: Int64?, abandonedAt: Int64?, error: String?
    ) {
        self.id = id
        self.sessionRowId = sessionRowId
        self.sessionKey = sessionKey
        self.userId = userId
        self.dataSource = dataSource
        self.operationId = operationId
        self.jobTag = jobTag
        self.status = status
        self.statement = statement
        self.request = request
        self.reattachable = reattachable
        self.attached = attached
        self.timeoutMs = timeoutMs
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.lastAttachedAt = lastAttachedAt
        self.endedAt = endedAt
        self.closedAt = closedAt
        self.abandonedAt = abandonedAt
        self.error = error
    }

    var subject: EventSubject {
        EventSubject(sessionKey: sessionKey, userId: userId, dataSource: dataSource, operationId: operationId)
    }

    /// The public value of this row with its tags (sorted), read or just written.
    package func execution(tags: [String]) -> Execution {
        Execution(
            operationId: operationId, sessionKey: sessionKey, userId: userId, jobTag: jobTag, status: status, tags: tags,
            statement: statement, request: request, reattachable: reattachable, attached: attached,
            timeout: timeoutMs.map(Duration.milliseconds), createdAt: Timestamp(milliseconds: createdAt),
            startedAt: startedAt.map(Timestamp.init), lastAttachedAt: Timestamp(milliseconds: lastAttachedAt),
            endedAt: endedAt.map(Timestamp.init), closedAt: closedAt.map(Timestamp.init),
            abandonedAt: abandonedAt.map(Timestamp.init), error: error)
    }
}

/// The columns a status change may write, as it wrote them.
package struct ExecutionStatusColumns: Sendable {
    package let startedAt: Int64?
    package let endedAt: Int64?
    package let closedAt: Int64?
    package let error: String?

    package init(startedAt: Int64?, endedAt: Int64?, closedAt: Int64?, error: String?) {
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.closedAt = closedAt
        self.error = error
    }
}

/// A row of `instances`.
package struct InstanceRow: Sendable {
    package let id: Int64
    /// The host identity the process registered with (``SessionStoreConfiguration/instanceHost``).
    package let host: String
    package let pid: Int64
    package let startedAt: Int64
    package let heartbeatAt: Int64
    package let serving: Bool
    /// When it began serving (running the sweeper); `nil` when it does not serve.
    package let servingSince: Int64?

    package init(id: Int64, host: String, pid: Int64, startedAt: Int64, heartbeatAt: Int64, serving: Bool, servingSince: Int64?) {
        self.id = id
        self.host = host
        self.pid = pid
        self.startedAt = startedAt
        self.heartbeatAt = heartbeatAt
        self.serving = serving
        self.servingSince = servingSince
    }

    /// This machine's host name: the default host identity of the instances it runs.
    package static var currentHost: String { ProcessInfo.processInfo.hostName }
}

/// Who an event is about: the columns of `events` that name a session.
package struct EventSubject: Sendable {
    package var sessionKey: String?
    package var userId: String?
    package var dataSource: String?
    package var operationId: String?

    package init(sessionKey: String? = nil, userId: String? = nil, dataSource: String? = nil, operationId: String? = nil) {
        self.sessionKey = sessionKey
        self.userId = userId
        self.dataSource = dataSource
        self.operationId = operationId
    }
}

/// An event to append, its payload encoded beforehand.
package struct NewEvent: Sendable {
    package var at: Int64
    package var kind: EventKind
    package var subject: EventSubject
    package var payloadJSON: String

    package init(at: Int64, kind: EventKind, subject: EventSubject, payloadJSON: String) {
        self.at = at
        self.kind = kind
        self.subject = subject
        self.payloadJSON = payloadJSON
    }
}

/// A page of the event log read by notification consumers: the events after a position,
/// of some kinds, and how far the page covers the log.
package struct EventPage: Sendable {
    /// The events read, in sequence order.
    package var events: [StoreEvent]
    /// Every event of the wanted kinds up to this sequence number is in `events` (or was
    /// before the page's start), and no event at or below it can commit later.
    package var through: Int64

    package init(events: [StoreEvent], through: Int64) {
        self.events = events
        self.through = through
    }
}

/// The names of the values of `store_state`; no other name is written.
package enum StoreStateKey: String, Sendable, CaseIterable {
    /// When live sessions were last re-armed, after the last serving process went
    /// away: a live session not accessed since, due after `rearm_since`, gets a full
    /// timeout from this time before it may expire (see
    /// ``Expiry/effectiveExpireAt(stored:isLive:timeoutMs:lastAccessAt:rearm:)``).
    case rearmEpoch = "rearm_epoch"
    /// The tick, in milliseconds, of the process that wrote `rearm_epoch`: re-armed
    /// expiries are rounded up to it, whichever process reads or sweeps them. Missing
    /// beside an epoch an earlier version wrote: 1 ms is used.
    case rearmTick = "rearm_tick"
    /// The last time a serving process was known alive before the re-arm at
    /// `rearm_epoch`: sessions due before it stay expired. Missing beside an epoch an
    /// earlier version wrote: every session not accessed since the epoch is re-armed.
    case rearmSince = "rearm_since"
    /// When the last serving process stopped cleanly; the next open re-arms from it
    /// and deletes it. Until then sessions due after it are suspended.
    case servingStoppedAt = "serving_stopped_at"
    /// When the last sweep pass ended.
    case sweepLastPassAt = "sweep_last_pass_at"
    /// How long the last sweep pass took, in milliseconds.
    case sweepLastPassMs = "sweep_last_pass_ms"
}

/// Where a listing resumes: just after `row`, whose stored (not effective) expiry is
/// `storedExpireAt`, in the filter's order.
package struct SessionListPosition: Sendable {
    package var row: SessionRow
    package var storedExpireAt: Int64?

    package init(row: SessionRow, storedExpireAt: Int64?) {
        self.row = row
        self.storedExpireAt = storedExpireAt
    }
}

/// What a backend counts of a listing (``SessionListRepository/count(_:now:)``).
package struct SessionListCount: Sendable {
    /// The rows that certainly match.
    package var counted: Int
    /// Live rows whose stored expiry has passed: each matches or not by its effective
    /// expiry, which the service layer decides.
    package var undecided: [SessionRow]

    package init(counted: Int, undecided: [SessionRow]) {
        self.counted = counted
        self.undecided = undecided
    }
}
