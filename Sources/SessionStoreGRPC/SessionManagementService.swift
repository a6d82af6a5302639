import GRPCCore
import SessionStoreCore
import SwiftProtobuf

/// `sessionstore.v1.SessionManagement` over a ``SessionStore``: the Stream API's session
/// calls, ZooKeeper's ping, per-session config and the event log.
///
/// Every call acts for ``Caller/current`` through the store's principal-scoped view, so a
/// session of another principal answers `NOT_FOUND` exactly as an unknown key does. Mount
/// it in a `GRPCServer` together with ``SessionStoreGRPCServer/interceptors(for:)``, which
/// establish the caller:
///
/// ```swift
/// let services = SessionStoreGRPCServer.services(store: store)
/// let server = GRPCServer(
///     transport: .http2NIOPosix(address: .ipv4(host: "127.0.0.1", port: 50051), transportSecurity: .plaintext),
///     services: services,
///     interceptors: SessionStoreGRPCServer.interceptors(for: store, authentication: .none))
/// ```
public struct SessionManagementService: Sessionstore_V1_SessionManagement.SimpleServiceProtocol {
    let calls: CallContext

    /// The service over `store`; `drain` ends its streams when the server drains.
    public init(store: SessionStore, drain: DrainSignal = DrainSignal(), streams: StreamLimiter = StreamLimiter()) {
        self.calls = CallContext(store: store, drain: drain, streams: streams)
    }

    public func createSession(
        request: Sessionstore_V1_CreateSessionRequest, context: ServerContext
    ) async throws -> Sessionstore_V1_CreateSessionResponse {
        try await calls.run { view, caller in
            var open = OpenSessionRequest(userId: request.userID.isEmpty ? (caller.principal ?? "") : request.userID)
            if request.hasSessionID { open.sessionId = request.sessionID }
            if !request.dataSource.isEmpty { open.dataSource = request.dataSource }
            if !request.type.isEmpty { open.type = request.type }
            if request.version != 0 { open.version = request.version }
            if request.hasUtcOffset {
                guard request.utcOffset.nanos == 0 else {
                    throw SessionStoreError(code: .invalidUtcOffset, message: "utc_offset must be whole seconds")
                }
                open.utcOffsetSeconds = request.utcOffset.seconds
            }
            if request.hasIdentifier { open.identifier = request.identifier }
            open.details = request.details
            open.config = request.config
            open.associates = request.associateSessionKeys
            open.clientAddress = caller.isTrustedProxy && request.hasClientAddress ? request.clientAddress : caller.peerAddress
            if request.hasTimeout { open.timeout = .after(try request.timeout.storeDuration(field: .invalidTimeout)) }
            open.reconnect = request.reconnect
            let opened = try await view.openSessionReportingOutcome(open)
            var response = Sessionstore_V1_CreateSessionResponse()
            response.session = Sessionstore_V1_Session(opened.session)
            response.sessionKey = opened.session.key
            response.created = opened.created
            response.ignoredFields = opened.ignoredFields
            return response
        }
    }

    public func getSessionInfo(
        request: Sessionstore_V1_GetSessionInfoRequest, context: ServerContext
    ) async throws -> Sessionstore_V1_GetSessionInfoResponse {
        try await calls.run { view, _ in
            var response = Sessionstore_V1_GetSessionInfoResponse()
            response.session = Sessionstore_V1_Session(try await view.existingSession(key: request.sessionKey))
            return response
        }
    }

    public func getCurrentSessions(
        request: Sessionstore_V1_GetCurrentSessionsRequest, context: ServerContext
    ) async throws -> Sessionstore_V1_GetCurrentSessionsResponse {
        try await calls.run { view, _ in
            // The page is read from the store in steps and ends early at the response
            // budget; the token then continues after the last session sent.
            let page = try await ResponseBudget.page(
                size: request.pageSize == 0 ? 100 : Int(request.pageSize),
                read: { (after: Session?, count) in
                    try await view.listSessions(
                        SessionFilter(
                            states: .live,
                            userId: request.userID.isEmpty ? nil : request.userID,
                            dataSource: request.dataSource.isEmpty ? nil : request.dataSource,
                            limit: count,
                            after: after?.key ?? (request.pageToken.isEmpty ? nil : request.pageToken)))
                },
                message: Sessionstore_V1_Session.init)
            var response = Sessionstore_V1_GetCurrentSessionsResponse()
            response.sessions = page.messages
            if page.more, let last = page.last { response.nextPageToken = last.key }
            return response
        }
    }

    public func updateSessionDetails(
        request: Sessionstore_V1_UpdateSessionDetailsRequest, context: ServerContext
    ) async throws -> Sessionstore_V1_UpdateSessionDetailsResponse {
        try await calls.run { view, _ in
            // One transaction: the details set, those removed and the session answered.
            var response = Sessionstore_V1_UpdateSessionDetailsResponse()
            response.session = Sessionstore_V1_Session(
                try await view.updateDetails(key: request.sessionKey, set: request.details, remove: request.remove))
            return response
        }
    }

    public func updateSessionIdentifier(
        request: Sessionstore_V1_UpdateSessionIdentifierRequest, context: ServerContext
    ) async throws -> Sessionstore_V1_UpdateSessionIdentifierResponse {
        try await calls.run { view, _ in
            try await view.updateIdentifier(key: request.sessionKey, request.hasIdentifier ? request.identifier : nil)
            var response = Sessionstore_V1_UpdateSessionIdentifierResponse()
            response.session = try await Sessionstore_V1_Session(view.existingSession(key: request.sessionKey))
            return response
        }
    }

    public func updateSessionConfig(
        request: Sessionstore_V1_UpdateSessionConfigRequest, context: ServerContext
    ) async throws -> Sessionstore_V1_UpdateSessionConfigResponse {
        try await calls.run { view, _ in
            var response = Sessionstore_V1_UpdateSessionConfigResponse()
            response.changed = try await view.setConfig(key: request.sessionKey, request.config)
            return response
        }
    }

    public func associateSessions(
        request: Sessionstore_V1_AssociateSessionsRequest, context: ServerContext
    ) async throws -> Sessionstore_V1_AssociateSessionsResponse {
        try await calls.run { view, _ in
            try await view.addAssociate(parentKey: request.parentSessionKey, childKey: request.childSessionKey)
            return Sessionstore_V1_AssociateSessionsResponse()
        }
    }

    public func getSessionTree(
        request: Sessionstore_V1_GetSessionTreeRequest, context: ServerContext
    ) async throws -> Sessionstore_V1_GetSessionTreeResponse {
        try await calls.run { view, _ in
            try await Sessionstore_V1_GetSessionTreeResponse(view.sessionTree(key: request.sessionKey), within: ResponseBudget())
        }
    }

    public func touchSession(
        request: Sessionstore_V1_TouchSessionRequest, context: ServerContext
    ) async throws -> Sessionstore_V1_TouchSessionResponse {
        try await calls.run { view, _ in try await Self.touch(request, on: view) }
    }

    public func touchSessions(
        request: RPCAsyncSequence<Sessionstore_V1_TouchSessionRequest, any Error>,
        response: RPCWriter<Sessionstore_V1_TouchSessionResponse>,
        context: ServerContext
    ) async throws {
        // One view for the whole call: a ping costs the touch and the two messages.
        try await calls.stream(context) { view, _ in
            for try await ping in request {
                try await response.write(Self.touch(ping, on: view))
            }
        }
    }

    public func touchSessionBatch(
        request: Sessionstore_V1_TouchSessionBatchRequest, context: ServerContext
    ) async throws -> Sessionstore_V1_TouchSessionBatchResponse {
        try await calls.run { view, _ in
            var response = Sessionstore_V1_TouchSessionBatchResponse()
            response.results = try await view.touch(keys: request.sessionKeys).map(Sessionstore_V1_SessionTouch.init)
            return response
        }
    }

    /// TouchSession's answer for `request`; an unknown key (or another principal's) is
    /// `sessionNotFound`. A request with `session_keys` is a batch, answered in `results`
    /// as TouchSessionBatch answers it.
    private static func touch(
        _ request: Sessionstore_V1_TouchSessionRequest, on view: ScopedSessionStore
    ) async throws -> Sessionstore_V1_TouchSessionResponse {
        var response = Sessionstore_V1_TouchSessionResponse()
        guard request.sessionKeys.isEmpty else {
            guard request.sessionKey.isEmpty else {
                throw SessionStoreError(code: .invalidRequest, message: "give session_key or session_keys, not both")
            }
            response.results = try await view.touch(keys: request.sessionKeys).map(Sessionstore_V1_SessionTouch.init)
            return response
        }
        switch try await view.touch(key: request.sessionKey) {
        case .live: response.result = .live
        case .closed: response.result = .closed
        case .expired: response.result = .expired
        case .unknown:
            throw SessionStoreError.sessionNotFound(request.sessionKey)
        }
        response.live = response.result == .live
        return response
    }

    public func endSession(
        request: Sessionstore_V1_EndSessionRequest, context: ServerContext
    ) async throws -> Sessionstore_V1_EndSessionResponse {
        try await calls.run { view, _ in
            let closed = try await view.closeSession(
                key: request.sessionKey, reason: request.reason.isEmpty ? "closed by client" : request.reason)
            var response = Sessionstore_V1_EndSessionResponse()
            response.session = Sessionstore_V1_Session(closed.session)
            response.endedByThisCall = closed.closedByThisCall
            return response
        }
    }

    public func getSessionStartNotification(
        request: Sessionstore_V1_GetSessionStartNotificationRequest,
        response: RPCWriter<Sessionstore_V1_SessionStartNotification>,
        context: ServerContext
    ) async throws {
        try await calls.stream(context) { view, _ in
            let starts = try await view.sessionStarts(dataSource: request.dataSource.isEmpty ? nil : request.dataSource)
            try await calls.forward(starts, to: response, Sessionstore_V1_SessionStartNotification.init)
        }
    }

    public func getSessionStopNotification(
        request: Sessionstore_V1_GetSessionStopNotificationRequest,
        response: RPCWriter<Sessionstore_V1_SessionStopNotification>,
        context: ServerContext
    ) async throws {
        try await calls.stream(context) { view, _ in
            let stops = try await view.sessionStops(dataSource: request.dataSource.isEmpty ? nil : request.dataSource)
            try await calls.forward(stops, to: response, Sessionstore_V1_SessionStopNotification.init)
        }
    }

    public func streamEvents(
        request: Sessionstore_V1_StreamEventsRequest,
        response: RPCWriter<Sessionstore_V1_Event>,
        context: ServerContext
    ) async throws {
        try await calls.stream(context) { view, _ in
            let kinds = try Self.eventKinds(request.kinds)
            let start: Int64
            switch request.from {
            case .subscription(let name):
                start = try await view.subscription(named: name).acknowledgedSeq()
            case .afterSeq(let seq):
                start = seq
            case nil:
                start = 0
            }
            guard start >= 0 else {
                throw SessionStoreError(code: .invalidLimit, message: "after_seq must be at least 0 (got \(start))")
            }
            if request.follow {
                try await calls.forward(try view.events(from: start, kinds: kinds), to: response, Sessionstore_V1_Event.init)
            } else {
                // Pages of the wanted kinds, selected by the store, until one reaches the
                // newest event.
                var after = start
                while true {
                    let page = try await view.eventPage(after: after, kinds: kinds, limit: 1000)
                    try await response.write(contentsOf: page.events.map(Sessionstore_V1_Event.init))
                    guard page.events.count == 1000, page.through > after else { return }
                    after = page.through
                }
            }
        }
    }

    public func acknowledgeEvents(
        request: Sessionstore_V1_AcknowledgeEventsRequest, context: ServerContext
    ) async throws -> Sessionstore_V1_AcknowledgeEventsResponse {
        try await calls.run { view, _ in
            guard request.throughSeq >= 0 else {
                throw SessionStoreError(
                    code: .invalidLimit, message: "through_seq must be at least 0 (got \(request.throughSeq))")
            }
            try await view.subscription(named: request.subscription).acknowledge(through: request.throughSeq)
            return Sessionstore_V1_AcknowledgeEventsResponse()
        }
    }
}

extension SessionManagementService {
    /// A request's event kinds as a filter: `nil` (every kind) when none is named. A kind
    /// the store never writes is refused rather than matched by nothing, so a mistyped
    /// name is heard of; the known kinds bound how large a filter can be.
    static func eventKinds(_ names: [String]) throws -> Set<EventKind>? {
        guard !names.isEmpty else { return nil }
        var kinds: Set<EventKind> = []
        for name in names {
            let kind = EventKind(rawValue: name)
            guard EventKind.known.contains(kind) else {
                let shown = name.count > 64 ? "\(name.prefix(64))…" : name
                throw SessionStoreError(
                    code: .invalidEventKind,
                    message: "no event kind is named \(shown.debugDescription) (\(names.count) kinds named)")
            }
            kinds.insert(kind)
        }
        return kinds
    }
}

extension Google_Protobuf_Duration {
    /// The duration, or `field`'s INVALID_ARGUMENT error when the message is not one.
    func storeDuration(field: SessionStoreError.Code) throws -> Duration {
        guard let duration = swiftDuration else {
            throw SessionStoreError(code: field, message: "a duration's seconds and nanos must agree in sign, nanos within ±999,999,999")
        }
        return duration
    }
}
