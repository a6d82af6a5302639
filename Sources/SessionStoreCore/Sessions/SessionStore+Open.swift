import Logging

/// Opening sessions for any user the request names: unchecked calls for trusted code in
/// the process. A caller that is not trusted is served through
/// ``SessionStore/acting(as:)``, whose ``ScopedSessionStore`` makes the same calls for
/// one principal.
extension SessionStore {
    /// Opens a new session.
    ///
    /// ```swift
    /// let session = try await store.openSession(OpenSessionRequest(userId: "ada", sessionId: "nb-1"))
    /// print(session.key, session.timeout)
    /// ```
    ///
    /// The authenticator and the impersonation policy run first; the limits are checked
    /// in the same transaction as the insert, so concurrent opens can never exceed them.
    /// Every refusal is a typed error and a `session.refused` event.
    ///
    /// With `reconnect` the session returned may be an existing one;
    /// ``openSessionReportingOutcome(_:)`` says so, and which fields of the request it did
    /// not take.
    ///
    /// - Throws: `INVALID_ARGUMENT.*` for bad input (nothing written);
    ///   `INVALID_HANDLE.SESSION_ALREADY_EXISTS` when the user has a live session with this
    ///   session id (unless `reconnect`, which returns it);
    ///   `INVALID_HANDLE.SESSION_CLOSED` when that session id was closed or expired (unless
    ///   `reconnect`, which opens a new one, never reviving an expired session);
    ///   `INVALID_HANDLE.SESSION_NOT_FOUND`, `INVALID_HANDLE.SESSION_CLOSED` or
    ///   `INVALID_HANDLE.SESSION_EXPIRED` for an associate that is not live;
    ///   `LIMIT_EXCEEDED.LINKS_PER_SESSION` for more associates than
    ///   ``SessionLimits/maxLinksPerSession``, or an associate at that limit (nothing written);
    ///   `LIMIT_EXCEEDED.*` (after the sessions counted against that limit whose expiry
    ///   has passed were ended as expired, so they hold no slot); `PERMISSION_DENIED.*`.
    public func openSession(_ request: OpenSessionRequest) async throws -> Session {
        try await openSessionReportingOutcome(request).session
    }

    /// Opens a session as ``openSession(_:)`` does, and tells whether it is new: with
    /// `reconnect`, a live session with the request's session id is returned as it is,
    /// and ``OpenedSession/ignoredFields`` names the request's fields it does not have
    /// (a different data source, details, config…), so a caller can answer without a
    /// second, racing read.
    ///
    /// - Throws: what ``openSession(_:)`` throws.
    public func openSessionReportingOutcome(_ request: OpenSessionRequest) async throws -> OpenedSession {
        try await openSessionReportingOutcome(request, scope: nil)
    }

    /// ``openSessionReportingOutcome(_:)`` for a principal: see ``ScopedSessionStore/openSession(_:)``.
    func openSessionReportingOutcome(_ request: OpenSessionRequest, scope: AccessScope?) async throws -> OpenedSession {
        let started = ContinuousClock.now
        defer { metrics.operations.openSession.record(since: started) }
        return try await open(request, returningLive: request.reconnect, reportsIgnoredFields: true, scope: scope)
    }

    /// Opens a session from its parts; see ``openSession(_:)``.
    public func openSession(
        userId: String, sessionId: String? = nil, dataSource: String = "default",
        details: [String: String] = [:], config: [String: String] = [:], timeout: SessionTimeout? = nil
    ) async throws -> Session {
        try await openSession(
            OpenSessionRequest(
                userId: userId, sessionId: sessionId, dataSource: dataSource, details: details, config: config,
                timeout: timeout))
    }

    /// The live session of `userId` named `sessionId`, opened if it does not exist
    /// (Spark Connect's `getOrCreateIsolatedSession`). Returning an existing session
    /// counts as an access; ``openIsolatedSessionReportingOutcome(userId:sessionId:)``
    /// tells which it did. An expired session is never revived: a new one is opened (one
    /// whose expiry has passed is ended as expired first, as the sweeper would).
    ///
    /// - Throws: `INVALID_HANDLE.SESSION_CLOSED` when that session id was closed and
    ///   its tombstone is still kept.
    public func openIsolatedSession(userId: String, sessionId: String) async throws -> Session {
        try await openIsolatedSessionReportingOutcome(userId: userId, sessionId: sessionId).session
    }

    /// ``openIsolatedSession(userId:sessionId:)`` telling whether the session is new
    /// (``OpenedSession/created``). Its ``OpenedSession/ignoredFields`` is always empty:
    /// the call names only the user and the session id.
    ///
    /// - Throws: what ``openIsolatedSession(userId:sessionId:)`` throws.
    public func openIsolatedSessionReportingOutcome(userId: String, sessionId: String) async throws -> OpenedSession {
        try await openIsolatedSessionReportingOutcome(userId: userId, sessionId: sessionId, scope: nil)
    }

    /// ``openIsolatedSessionReportingOutcome(userId:sessionId:)`` for a principal.
    func openIsolatedSessionReportingOutcome(
        userId: String, sessionId: String, scope: AccessScope?
    ) async throws -> OpenedSession {
        let started = ContinuousClock.now
        defer { metrics.operations.openSession.record(since: started) }
        return try await open(
            OpenSessionRequest(userId: userId, sessionId: sessionId), returningLive: true, reportsIgnoredFields: false,
            scope: scope)
    }

    private enum OpenOutcome: Sendable {
        case opened(Session)
        case existing(Session)
        case refused(OpenRefusal)
    }

    /// What validation hands to the create step.
    private struct ValidOpen: Sendable {
        /// The request with every id in NFC: what is stored, looked up and compared.
        let request: OpenSessionRequest
        let associates: [String]
        let timeoutMs: Int64?
    }

    /// Validate, admit, create: bad input throws before anything is written; an
    /// admission refusal is recorded in its own transaction; the limits are checked in
    /// the transaction that inserts.
    ///
    /// - Parameters:
    ///   - reportsIgnoredFields: whether an existing session is compared with the
    ///     request (``OpenedSession/ignoredFields``).
    ///   - scope: the principal opening, which must be the request's user or allowed to
    ///     act as it, and may link only sessions it may act on; `nil` for a trusted call.
    private func open(
        _ request: OpenSessionRequest, returningLive: Bool, reportsIgnoredFields: Bool, scope: AccessScope?
    ) async throws(SessionStoreError) -> OpenedSession {
        let valid = try validate(request)
        let request = valid.request
        try await admit(request, scope: scope)
        let (outcome, ended) = try await create(request, valid, returningLive: returningLive, scope: scope)
        ended.forEach(didEnd)
        switch outcome {
        case .opened(let session):
            sessionMetrics.opened(session)
            logger.debug(
                "session opened",
                metadata: ["session.key": "\(session.key)", "session.user": "\(session.userId)", "session.data_source": "\(session.dataSource)"])
            return OpenedSession(session: session, created: true)
        case .existing(let session):
            let ignored =
                reportsIgnoredFields
                ? request.fieldsNotApplied(to: session, associates: valid.associates, timeoutMs: valid.timeoutMs) : []
            return OpenedSession(session: session, created: false, ignoredFields: ignored)
        case .refused(let refusal):
            didRefuse(refusal, request: request)
            throw refusal.error
        }
    }

    private func validate(_ given: OpenSessionRequest) throws(SessionStoreError) -> ValidOpen {
        let validator = configuration.validator
        var request = given
        request.userId = try validator.id(given.userId, field: .invalidUserId)
        request.sessionId = try validator.optionalId(given.sessionId, field: .invalidSessionId)
        request.dataSource = try validator.id(given.dataSource, field: .invalidDataSource)
        request.type = try validator.id(given.type, field: .invalidType)
        request.identifier = try validator.optionalId(given.identifier, field: .invalidIdentifier)
        request.clientAddress = try validator.optionalId(given.clientAddress, field: .invalidClientAddress)
        request.impersonatedUser = try validator.optionalId(given.impersonatedUser, field: .invalidImpersonatedUser)
        request.details = try validator.pairs(given.details, nameField: .invalidDetailName, valueField: .invalidDetailValue)
        request.config = try validator.pairs(given.config, nameField: .invalidConfigName, valueField: .invalidConfigValue)
        if let credentials = request.credentials { try validator.value(credentials, field: .invalidCredentials) }
        guard request.version >= 1 else {
            throw SessionStoreError.invalidArgument(.invalidVersion, "version must be at least 1 (got \(request.version))")
        }
        guard (-18 * 3600...18 * 3600).contains(request.utcOffsetSeconds) else {
            throw SessionStoreError.invalidArgument(.invalidUtcOffset, "UTC offset must be within ±18 hours (got \(request.utcOffsetSeconds) s)")
        }
        guard request.details.count <= configuration.limits.maxDetailsPerSession else {
            throw SessionStoreError(
                code: SessionStoreError.Code.detailsPerSession,
                message: "\(request.details.count) details exceed the limit of \(configuration.limits.maxDetailsPerSession)")
        }
        guard request.config.count <= configuration.limits.maxConfigPerSession else {
            throw SessionStoreError(
                code: SessionStoreError.Code.configPerSession,
                message: "\(request.config.count) config entries exceed the limit of \(configuration.limits.maxConfigPerSession)")
        }
        let associates = try request.associates.map { (key) throws(SessionStoreError) in try validator.key(key) }
        let linkLimit = configuration.limits.maxLinksPerSession
        let distinctAssociates = Set(associates).count
        guard distinctAssociates <= linkLimit else {
            throw SessionStoreError(
                code: SessionStoreError.Code.linksPerSession,
                message: "\(distinctAssociates) associates exceed the limit of \(linkLimit) links per session")
        }
        return ValidOpen(request: request, associates: associates, timeoutMs: try configuration.negotiateTimeout(request.timeout))
    }

    /// Runs the authenticator and the impersonation policy. A refusal is recorded in its
    /// own transaction (nothing else is written) and thrown.
    private func admit(_ request: OpenSessionRequest, scope: AccessScope?) async throws(SessionStoreError) {
        guard let error = await admissionRefusal(request, scope: scope) else { return }
        let refusal = OpenRefusal(error)
        try await write { db in try refusal.record(db, request: request, at: db.now) }
        didRefuse(refusal, request: request)
        throw refusal.error
    }

    /// Metrics and log line of a committed refusal, whoever refused.
    private func didRefuse(_ refusal: OpenRefusal, request: OpenSessionRequest) {
        sessionMetrics.refused(code: refusal.error.code)
        logger.debug("session refused", metadata: ["session.user": "\(request.userId)", "error.code": "\(refusal.error.code)"])
    }

    /// The write of an open: the existing session when the request names a live one,
    /// else the limits, then the new session with its events and links. Also returns the
    /// overdue sessions it ended on the way (the one the request names, those holding a
    /// limit's slots).
    private func create(
        _ request: OpenSessionRequest, _ valid: ValidOpen, returningLive: Bool, scope: AccessScope?
    ) async throws(SessionStoreError) -> (OpenOutcome, [EndedSession]) {
        let configuration = self.configuration
        let limits = configuration.limits
        let expiry = configuration.expiry
        let key = SessionKey.make()
        // Payloads are encoded here, on the caller's task: the writer thread only runs SQL.
        var startedPayload = ["type": request.type, "timeoutMs": valid.timeoutMs.map(String.init) ?? "never"]
        startedPayload["sessionId"] = request.sessionId
        startedPayload["clientAddress"] = request.clientAddress
        startedPayload["impersonatedUser"] = request.impersonatedUser
        if let scope, !scope.principal.hasSameBytes(as: request.userId) {
            startedPayload["principal"] = scope.principal
        }
        let startedPayloadJSON = JSONText.object(startedPayload)
        return try await write { db throws -> (OpenOutcome, [EndedSession]) in
            let now = db.now
            let instant = configuration.expiryInstant(now)
            var ended: [EndedSession] = []
            if let existing = try Self.existing(
                db, request, returningLive: returningLive, scope: scope, at: instant, expiry: expiry, ended: &ended)
            {
                return (.existing(existing), ended)
            }
            if let refusal = try Limits.refusal(db, limits: limits, request: request, at: instant, ended: &ended) {
                try refusal.record(db, request: request, at: now)
                return (.refused(refusal), ended)
            }
            let row = try db.sessions.create(key: key, request: request, timeoutMs: valid.timeoutMs,
                expireAt: valid.timeoutMs.map { expiry.expireAt(now: now, timeoutMs: $0) }, at: now)
            try db.events.append(at: now, kind: EventKind.sessionStarted, subject: row.subject, payloadJSON: startedPayloadJSON)
            let children = try Self.link(
                db, row, to: valid.associates, scope: scope, limit: limits.maxLinksPerSession, at: instant)
            // Everything the session holds was just written from the request: no need to
            // read it back.
            return (
                .opened(
                    row.session(details: request.details, config: request.config, parents: [], children: children)),
                ended
            )
        }
    }

    /// The live session the request's session id names, counted as an access, when
    /// `returningLive`; `nil` when a new session is to be opened. An expired session is
    /// never returned: `reconnect` and get-or-create open a new one, after ending it (into
    /// `ended`) when it is overdue.
    private static func existing(
        _ db: any StorageTransaction, _ request: OpenSessionRequest, returningLive: Bool, scope: AccessScope?, at instant: ExpiryInstant,
        expiry: Expiry, ended: inout [EndedSession]
    ) throws -> Session? {
        let now = instant.now
        guard let sessionId = request.sessionId,
            let stored = try db.sessions.newest(userId: request.userId, clientSessionId: sessionId)
        else { return nil }
        let newest = stored.seen(at: instant)
        if newest.state.isLive || newest.state == .closing {
            guard returningLive, newest.state.isLive else {
                throw SessionStoreError(
                    code: SessionStoreError.Code.sessionAlreadyExists,
                    message: "user \(request.userId.debugDescriptionPrefix) already has a live session \(sessionId.debugDescriptionPrefix)")
            }
            return try db.sessions.load(Access.record(db, newest, now: now, expiry: expiry), scope: scope)
        }
        guard request.reconnect || (returningLive && newest.state == .expired) else {
            throw SessionStoreError(
                code: SessionStoreError.Code.sessionClosed,
                message: "session \(sessionId.debugDescriptionPrefix) of user \(request.userId.debugDescriptionPrefix) was \(newest.state.rawValue); open it with reconnect to start a new one")
        }
        if stored.isOverdue(at: instant), let overdue = try SessionEnding.endExpired(db, stored, at: now) {
            ended.append(overdue)
        }
        return nil
    }

    /// Links the new session to its live associates, one `session.linked` event each;
    /// returns the children's keys in link order. An associate at its
    /// ``SessionLimits/maxLinksPerSession`` refuses the open, and so does one outside
    /// `scope`, as an unknown key (`INVALID_HANDLE.SESSION_NOT_FOUND`).
    private static func link(
        _ db: any StorageTransaction, _ row: SessionRow, to associates: [String], scope: AccessScope?, limit: Int, at instant: ExpiryInstant
    ) throws -> [String] {
        let now = instant.now
        var children: [Int64: String] = [:]
        for key in associates {
            let child = try Access.liveRow(db, key: key, scope: scope, at: instant)
            children[child.id] = key
            if try SessionLinking.link(db, parent: row, child: child, limit: limit, at: now) {
                // Encoded here: the child's user is known only in the transaction.
                try db.events.append(at: now, kind: EventKind.sessionLinked, subject: row.subject,
                    payload: ["child": key, "childUser": child.userId])
            }
        }
        return children.sorted { $0.key < $1.key }.map(\.value)
    }

    /// The authenticator's and the impersonation policy's verdict; nil admits. In a
    /// scope, the policy first decides whether the principal may open a session of the
    /// request's user at all.
    private func admissionRefusal(_ request: OpenSessionRequest, scope: AccessScope?) async -> SessionStoreError? {
        if let scope, !scope.allows(request.userId) {
            return scope.denied(request.userId)
        }
        let authentication = AuthenticationRequest(
            userId: request.userId, credentials: request.credentials, clientAddress: request.clientAddress)
        let admitted: Bool
        do {
            admitted = try await configuration.authenticator.authenticate(authentication)
        } catch {
            // The authenticator's error may describe its own secrets (a connection string,
            // a password): the event and the caller get a generic message, the debug log
            // the detail.
            logger.debug(
                "authenticator failed", metadata: ["session.user": "\(request.userId)", "error.message": "\(error)"])
            return SessionStoreError(
                code: SessionStoreError.Code.authenticationFailed,
                message: "authentication of \(request.userId.debugDescriptionPrefix) failed")
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
}
