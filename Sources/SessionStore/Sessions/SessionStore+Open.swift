import Logging
import SessionStoreSQLite

extension SessionStore {
    /// Opens a new session.
    ///
    /// ```swift
    /// let session = try await store.openSession(OpenSessionRequest(userId: "ada", sessionId: "nb-1"))
    /// print(session.key, session.timeoutMs ?? "never")
    /// ```
    ///
    /// The authenticator and the impersonation policy run first; the limits are checked
    /// in the same transaction as the insert, so concurrent opens can never exceed them.
    /// Every refusal is a typed error and a `session.refused` event.
    ///
    /// - Throws: `INVALID_ARGUMENT.*` for bad input (nothing written);
    ///   `INVALID_HANDLE.SESSION_ALREADY_EXISTS` when the user has a live session with this
    ///   session id (unless `reconnect`, which returns it);
    ///   `INVALID_HANDLE.SESSION_CLOSED` when that session id was closed (unless
    ///   `reconnect`, which opens a new one); `INVALID_HANDLE.SESSION_NOT_FOUND` or
    ///   `INVALID_HANDLE.SESSION_CLOSED` for an associate that is not live;
    ///   `LIMIT_EXCEEDED.*`; `PERMISSION_DENIED.*`.
    public func openSession(_ request: OpenSessionRequest) async throws(SessionStoreError) -> Session {
        let started = ContinuousClock.now
        defer { metrics.operations.openSession.record(since: started) }
        return try await open(request, returningLive: request.reconnect)
    }

    /// Opens a session from its parts; see ``openSession(_:)``.
    public func openSession(
        userId: String, sessionId: String? = nil, dataSource: String = "default",
        details: [String: String] = [:], config: [String: String] = [:], timeout: SessionTimeout? = nil
    ) async throws(SessionStoreError) -> Session {
        var request = OpenSessionRequest(userId: userId, sessionId: sessionId)
        request.dataSource = dataSource
        request.details = details
        request.config = config
        request.timeout = timeout
        return try await openSession(request)
    }

    /// The live session of `userId` named `sessionId`, opened if it does not exist
    /// (Spark Connect's `getOrCreateIsolatedSession`). Returning an existing session
    /// counts as an access.
    ///
    /// - Throws: `INVALID_HANDLE.SESSION_CLOSED` when that session id was closed and
    ///   its tombstone is still kept.
    public func getOrCreateIsolatedSession(userId: String, sessionId: String) async throws(SessionStoreError) -> Session {
        let started = ContinuousClock.now
        defer { metrics.operations.openSession.record(since: started) }
        return try await open(OpenSessionRequest(userId: userId, sessionId: sessionId), returningLive: true)
    }

    private enum OpenOutcome: Sendable {
        case opened(Session)
        case existing(Session)
        case refused(SessionStoreError)
    }

    private func open(_ request: OpenSessionRequest, returningLive: Bool) async throws(SessionStoreError) -> Session {
        let validator = configuration.validator
        try validator.id(request.userId, field: "USER_ID")
        try validator.optionalId(request.sessionId, field: "SESSION_ID")
        try validator.id(request.dataSource, field: "DATA_SOURCE")
        try validator.id(request.type, field: "TYPE")
        try validator.optionalId(request.identifier, field: "IDENTIFIER")
        try validator.optionalId(request.clientAddress, field: "CLIENT_ADDRESS")
        try validator.optionalId(request.impersonatedUser, field: "IMPERSONATED_USER")
        try validator.pairs(request.details, nameField: "DETAIL_NAME", valueField: "DETAIL_VALUE")
        try validator.pairs(request.config, nameField: "CONFIG_NAME", valueField: "CONFIG_VALUE")
        if let credentials = request.credentials { try validator.value(credentials, field: "CREDENTIALS") }
        guard request.version >= 1 else {
            throw .invalidArgument("VERSION", "version must be at least 1 (got \(request.version))")
        }
        guard (-18 * 3600...18 * 3600).contains(request.utcOffsetSeconds) else {
            throw .invalidArgument("UTC_OFFSET", "UTC offset must be within ±18 hours (got \(request.utcOffsetSeconds) s)")
        }
        guard request.details.count <= configuration.limits.maxDetailsPerSession else {
            throw SessionStoreError(
                code: SessionStoreError.Code.detailsPerSession,
                message: "\(request.details.count) details exceed the limit of \(configuration.limits.maxDetailsPerSession)")
        }
        let associates = try request.associates.map { (key) throws(SessionStoreError) in try validator.key(key) }
        let timeoutMs = try configuration.negotiateTimeout(request.timeout)

        if let refusal = await admissionRefusal(request) {
            try await recordRefusal(refusal, request: request)
            throw refusal
        }

        let limits = configuration.limits
        let expiry = configuration.expiry
        let clock = self.clock
        let key = SessionKey.make()
        var startedPayload = ["type": request.type, "timeoutMs": timeoutMs.map(String.init) ?? "never"]
        startedPayload["sessionId"] = request.sessionId
        startedPayload["clientAddress"] = request.clientAddress
        startedPayload["impersonatedUser"] = request.impersonatedUser
        // Encoded here, on the caller's task: the writer thread only runs SQL.
        let startedPayloadJSON = JSONText.object(startedPayload)
        let outcome = try await write { db throws -> OpenOutcome in
            let now = clock.now()
            if let sessionId = request.sessionId, let newest = try SessionRecords.newest(db, userId: request.userId, sessionId: sessionId) {
                if newest.state.isLive || newest.state == .closing {
                    guard returningLive, newest.state.isLive else {
                        throw SessionStoreError(
                            code: SessionStoreError.Code.sessionAlreadyExists,
                            message: "user \(request.userId.debugDescriptionPrefix) already has a live session \(sessionId.debugDescriptionPrefix)")
                    }
                    try Access.record(db, newest, now: now, expiry: expiry)
                    return .existing(try SessionRecords.load(db, SessionRecords.find(db, id: newest.id) ?? newest))
                }
                guard request.reconnect else {
                    throw SessionStoreError(
                        code: SessionStoreError.Code.sessionClosed,
                        message: "session \(sessionId.debugDescriptionPrefix) of user \(request.userId.debugDescriptionPrefix) was \(newest.state.rawValue); open it with reconnect to start a new one")
                }
            }
            if let refusal = try Limits.refusal(db, limits: limits, request: request) {
                try EventLog.append(
                    db, at: now, kind: EventKind.sessionRefused,
                    subject: EventLog.Subject(userId: request.userId, dataSource: request.dataSource),
                    payload: refusal.payload)
                return .refused(refusal.error)
            }
            var row = SessionRow(
                id: 0, key: key, userId: request.userId, sessionId: request.sessionId,
                dataSource: request.dataSource, type: request.type, version: request.version,
                identifier: request.identifier, utcOffsetSeconds: request.utcOffsetSeconds,
                clientAddress: request.clientAddress, impersonatedUser: request.impersonatedUser, state: .idle,
                timeoutMs: timeoutMs, createdAt: now, lastAccessAt: now,
                expireAt: timeoutMs.map { expiry.expireAt(now: now, timeoutMs: $0) }, endedAt: nil, endReason: nil,
                configChanges: 0)
            row.id = try SessionRecords.insert(db, row)
            for (name, value) in request.details {
                try SessionDetailRecords.upsertDetail(db, id: row.id, name: name, value: value, at: now)
            }
            for (name, value) in request.config {
                try SessionDetailRecords.upsertConfig(db, id: row.id, name: name, value: value, at: now)
            }
            try EventLog.append(db, at: now, kind: EventKind.sessionStarted, subject: row.subject, payloadJSON: startedPayloadJSON)
            var children: [Int64: String] = [:]
            for key in associates {
                let child = try Access.liveRow(db, key: key)
                children[child.id] = key
                if try SessionLinkRecords.link(db, parent: row.id, child: child.id, at: now) {
                    try EventLog.append(db, at: now, kind: EventKind.sessionLinked, subject: row.subject, payload: ["child": key])
                }
            }
            // Everything the session holds was just written from the request: no need to
            // read it back.
            return .opened(
                SessionRecords.session(
                    row, details: request.details, config: request.config, parents: [],
                    children: children.sorted { $0.key < $1.key }.map(\.value)))
        }
        switch outcome {
        case .opened(let session):
            sessionMetrics.opened(session)
            logger.debug(
                "session opened",
                metadata: ["session.key": "\(session.key)", "session.user": "\(session.userId)", "session.data_source": "\(session.dataSource)"])
            return session
        case .existing(let session):
            return session
        case .refused(let error):
            sessionMetrics.refused(code: error.code)
            logger.debug("session refused", metadata: ["session.user": "\(request.userId)", "error.code": "\(error.code)"])
            throw error
        }
    }

    /// The authenticator's and the impersonation policy's verdict; nil admits.
    private func admissionRefusal(_ request: OpenSessionRequest) async -> SessionStoreError? {
        let authentication = AuthenticationRequest(
            userId: request.userId, credentials: request.credentials, clientAddress: request.clientAddress)
        let admitted: Bool
        do {
            admitted = try await configuration.authenticator.authenticate(authentication)
        } catch {
            return SessionStoreError(
                code: SessionStoreError.Code.authenticationFailed,
                message: "authentication of \(request.userId.debugDescriptionPrefix) failed: \(error)")
        }
        guard admitted else {
            return SessionStoreError(
                code: SessionStoreError.Code.authenticationFailed,
                message: "credentials do not admit user \(request.userId.debugDescriptionPrefix)")
        }
        if let user = request.impersonatedUser,
            !configuration.impersonationPolicy.allows(principal: request.userId, toActAs: user)
        {
            return SessionStoreError(
                code: SessionStoreError.Code.impersonationDenied,
                message: "\(request.userId.debugDescriptionPrefix) may not act as \(user.debugDescriptionPrefix)")
        }
        return nil
    }

    private func recordRefusal(_ refusal: SessionStoreError, request: OpenSessionRequest) async throws(SessionStoreError) {
        let clock = self.clock
        try await write { db in
            try EventLog.append(
                db, at: clock.now(), kind: EventKind.sessionRefused,
                subject: EventLog.Subject(userId: request.userId, dataSource: request.dataSource),
                payload: ["code": refusal.code, "message": refusal.message])
        }
        sessionMetrics.refused(code: refusal.code)
    }
}
