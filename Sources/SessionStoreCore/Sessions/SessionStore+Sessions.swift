
/// Reads and changes of one session by key: unchecked calls for trusted code in the
/// process. A caller that is not trusted is served through ``SessionStore/acting(as:)``,
/// whose ``ScopedSessionStore`` makes the same calls for one principal.
extension SessionStore {
    /// The session with `key`, live or ended (a tombstone); `nil` when there is none.
    /// Does not count as an access. A session whose expiry has passed is shown expired
    /// (ended at its expiry, reason "expired") whether or not a sweeper has ended it yet.
    ///
    /// - Throws: `INVALID_HANDLE.FORMAT` when `key` is not a UUID.
    public func session(key: String) async throws -> Session? {
        try await session(key: key, scope: nil)
    }

    func session(key: String, scope: AccessScope?) async throws -> Session? {
        let key = try configuration.validator.key(key)
        let configuration = self.configuration
        return try await quickRead { db in
            let instant = configuration.expiryInstant(db.now)
            return try Access.find(db, key: key, scope: scope).map { try db.sessions.load($0.seen(at: instant), scope: scope) }
        }
    }

    /// The session `userId` opened as `sessionId`; `nil` when there is none. Only that
    /// user's sessions are searched: another user's session id is never found. Counts as
    /// an access (a touch).
    ///
    /// - Throws: `INVALID_HANDLE.SESSION_EXPIRED` when the newest such session expired
    ///   (its expiry passed, whether or not a sweeper has ended it yet),
    ///   `INVALID_HANDLE.SESSION_CLOSED` when it is closing or ended otherwise.
    public func isolatedSession(userId: String, sessionId: String) async throws -> Session? {
        try await isolatedSession(userId: userId, sessionId: sessionId, scope: nil)
    }

    /// ``isolatedSession(userId:sessionId:)`` in `scope`.
    ///
    /// - Throws: `PERMISSION_DENIED.IMPERSONATION` for a user outside `scope`.
    func isolatedSession(userId: String, sessionId: String, scope: AccessScope?) async throws -> Session? {
        let validator = configuration.validator
        let userId = try validator.id(userId, field: .invalidUserId)
        let sessionId = try validator.id(sessionId, field: .invalidSessionId)
        if let scope, !scope.allows(userId) { throw scope.denied(userId) }
        let configuration = self.configuration
        // The time of the read decides, and the touch that follows writes it.
        let (now, found) = try await quickRead { db -> (Int64, (SessionRow, Session)?) in
            let now = db.now
            return (now, try db.sessions.newest(userId: userId, clientSessionId: sessionId).map { stored in
                let row = stored.seen(at: configuration.expiryInstant(now))
                return (row, try db.sessions.load(row, scope: scope))
            })
        }
        guard let (row, session) = found else { return nil }
        guard row.state.isLive else {
            throw Access.notLive(row, named: "session \(sessionId.debugDescriptionPrefix) of user \(userId.debugDescriptionPrefix)")
        }
        guard let expireAt = configuration.expiry.movedExpiry(now: now, timeoutMs: row.timeoutMs, current: row.expireAt),
            case .moved = try await writeTouch(id: row.id, now: now, expireAt: expireAt)
        else { return session }
        var touched = session
        touched.lastAccessAt = Timestamp(milliseconds: now)
        touched.expireAt = Timestamp(milliseconds: expireAt)
        return touched
    }

    /// Records that the session is in use, moving its expiry to
    /// `roundUp(now + timeout, tick)` (ZooKeeper's `touchSession`).
    ///
    /// Writes nothing when that bucket is not later than the current expiry, so touching
    /// on every request is cheap; a late touch never moves expiry backwards. A session
    /// whose expiry has passed is expired, whether or not a sweeper has ended it: the
    /// touch writes nothing and answers ``TouchResult/expired``.
    ///
    /// - Returns: ``TouchResult/live`` while the session is live; otherwise whether it is
    ///   unknown, closed (closing, or ended other than by expiry) or expired.
    public func touch(key: String) async throws -> TouchResult {
        try await touch(key: key, scope: nil)
    }

    func touch(key: String, scope: AccessScope?) async throws -> TouchResult {
        let started = ContinuousClock.now
        defer { metrics.operations.touch.record(since: started) }
        return switch try await touchOutcome(key: configuration.validator.key(key), scope: scope) {
        case .gone(let result): result
        case .unmoved, .moved: .live
        }
    }

    /// What a touch did.
    enum TouchOutcome: Sendable {
        /// Not live: unknown, closed or expired. Nothing was written.
        case gone(TouchResult)
        /// Live; the bucket did not move, so nothing was written.
        case unmoved
        /// Live; the access and the new expiry were written.
        case moved(lastAccessAt: Int64, expireAt: Int64)
    }

    /// ``touch(key:)`` for a validated key, telling what it wrote. One point read decides
    /// (``Expiry/movedExpiry(now:timeoutMs:current:)``); only a moved bucket writes. A
    /// session outside `scope` is unknown: its owner never changes, so the write that
    /// follows the read is on a session the scope may act on.
    func touchOutcome(key: String, scope: AccessScope?) async throws(SessionStoreError) -> TouchOutcome {
        let tick = configuration.expiry.tick
        // The time of the read decides, and the write that follows uses it.
        let (now, snapshot) = try await quickRead(snapshot: false) { db in
            // The probe first: on PostgreSQL the database's time travels with it.
            let probe = try db.sessions.expiryProbe(key: key, tick: tick, now: { db.now })
            return (db.now, probe)
        }
        guard let snapshot, scope.allows(snapshot.userId) else { return .gone(.unknown) }
        guard snapshot.isLive, !snapshot.isOverdue(at: configuration.expiryInstant(now)) else {
            return .gone(TouchResult(notLive: snapshot.state))
        }
        guard let expireAt = configuration.expiry.movedExpiry(now: now, timeoutMs: snapshot.timeoutMs, current: snapshot.expireAt)
        else { return .unmoved }
        return try await writeTouch(id: snapshot.id, now: now, expireAt: expireAt)
    }

    /// Writes a touch decided outside the write transaction. It writes nothing when the
    /// decision went stale: another touch moved expiry further, or the session ended.
    private func writeTouch(id: Int64, now: Int64, expireAt: Int64) async throws(SessionStoreError) -> TouchOutcome {
        try await write { db -> TouchOutcome in
            if try db.sessions.touch(sessionRowId: id, now: now, expireAt: expireAt) {
                return .moved(lastAccessAt: now, expireAt: expireAt)
            }
            guard let state = try db.sessions.state(sessionRowId: id) else { return .gone(.unknown) }
            return state.isLive ? .unmoved : .gone(TouchResult(notLive: state))
        }
    }

    /// Sets details, inserting new names and replacing the values of existing ones (an
    /// upsert, so concurrent writers of one name never conflict). Counts as an access.
    ///
    /// - Throws: `LIMIT_EXCEEDED.DETAILS_PER_SESSION` when the session would hold more
    ///   details than allowed (nothing is written).
    public func updateDetails(key: String, _ details: [String: String]) async throws {
        try await updateDetails(key: key, details, scope: nil)
    }

    func updateDetails(key: String, _ details: [String: String], scope: AccessScope?) async throws {
        _ = try await changeDetails(key: key, set: details, remove: [], returning: false, scope: scope)
    }

    /// Removes the named details; names that are not set are ignored. Counts as an access.
    public func removeDetails(key: String, names: [String]) async throws {
        try await removeDetails(key: key, names: names, scope: nil)
    }

    func removeDetails(key: String, names: [String], scope: AccessScope?) async throws {
        _ = try await changeDetails(key: key, set: nil, remove: names, returning: false, scope: scope)
    }

    /// Sets `set` and removes `remove` (names not set are ignored) in one transaction, and
    /// returns the session as the transaction left it: `UpdateSessionDetails` of the
    /// Stream API. Events as ``updateDetails(key:_:)`` and ``removeDetails(key:names:)``
    /// write them; a name both set and removed ends removed. Counts as an access.
    ///
    /// ```swift
    /// let session = try await store.updateDetails(key: key, set: ["host": "b"], remove: ["stale"])
    /// ```
    ///
    /// - Throws: `LIMIT_EXCEEDED.DETAILS_PER_SESSION` when the session would hold more
    ///   details than ``SessionLimits/maxDetailsPerSession`` (nothing is written).
    @discardableResult
    public func updateDetails(key: String, set: [String: String], remove: [String]) async throws -> Session {
        try await updateDetails(key: key, set: set, remove: remove, scope: nil)
    }

    func updateDetails(key: String, set: [String: String], remove: [String], scope: AccessScope?) async throws -> Session {
        // A set part only when there is something to set: an empty one writes no event.
        let session = try await changeDetails(
            key: key, set: set.isEmpty ? nil : set, remove: remove, returning: true, scope: scope)
        guard let session else { throw SessionStoreError.sessionNotFound(key) }
        return session
    }

    /// Sets `set` (when given: an empty one still records a `session.details_updated`
    /// event, as ``updateDetails(key:_:)`` always has) and removes `remove`, in one
    /// transaction; the session as the transaction left it when `returning`.
    private func changeDetails(
        key: String, set: [String: String]?, remove: [String], returning: Bool, scope: AccessScope?
    ) async throws -> Session? {
        let validator = configuration.validator
        let key = try validator.key(key)
        let details = try set.map { (set) throws(SessionStoreError) in
            try validator.pairs(set, nameField: .invalidDetailName, valueField: .invalidDetailValue)
        }
        let names = try remove.map { (name) throws(SessionStoreError) in try validator.id(name, field: .invalidDetailName) }
        let maxDetails = configuration.limits.maxDetailsPerSession
        return try await mutate(key: key, scope: scope) { db, row, now in
            if let details {
                for (name, value) in details {
                    try db.details.upsertDetail(sessionRowId: row.id, name: name, value: value, at: now)
                }
                let count = try db.details.detailCount(sessionRowId: row.id)
                guard count <= Int64(maxDetails) else {
                    throw SessionStoreError(
                        code: SessionStoreError.Code.detailsPerSession,
                        message: "session \(key) would hold \(count) details; the limit is \(maxDetails)")
                }
                try db.events.append(at: now, kind: EventKind.detailsUpdated, subject: row.subject,
                    payload: ["names": details.keys.sorted().joined(separator: ",")])
            }
            var removed: [String] = []
            for name in names where try db.details.removeDetail(sessionRowId: row.id, name: name) {
                removed.append(name)
            }
            if !removed.isEmpty {
                try db.events.append(at: now, kind: EventKind.detailsRemoved, subject: row.subject,
                    payload: ["names": removed.sorted().joined(separator: ",")])
            }
            guard returning else { return nil }
            // As the transaction left it: the access moved its expiry.
            return try db.sessions.load(try db.sessions.find(key: key) ?? row, scope: scope)
        }
    }

    /// Sets configuration values. Each name whose value changes is recorded as a
    /// `session.config_changed` event with the old and new value — both replaced by
    /// ``SessionStoreConfiguration/redactedValue`` when the name matches the
    /// ``SessionStoreConfiguration/redactionPattern``, so the event log never holds them;
    /// setting a name to the value it has writes nothing for it. Counts as an access.
    ///
    /// - Returns: the names whose value changed.
    /// - Throws: `LIMIT_EXCEEDED.CONFIG_PER_SESSION` when the session would hold more
    ///   config entries than ``SessionLimits/maxConfigPerSession`` (nothing is written).
    @discardableResult
    public func setConfig(key: String, _ config: [String: String]) async throws -> [String] {
        try await setConfig(key: key, config, scope: nil)
    }

    @discardableResult
    func setConfig(key: String, _ config: [String: String], scope: AccessScope?) async throws -> [String] {
        let key = try configuration.validator.key(key)
        let config = try configuration.validator.pairs(config, nameField: .invalidConfigName, valueField: .invalidConfigValue)
        // Matched here, on the caller's task: the writer thread only runs SQL.
        let redacted = Set(config.keys.filter(redaction.redacts))
        let maxConfig = configuration.limits.maxConfigPerSession
        return try await mutate(key: key, scope: scope) { db, row, now in
            var changed: [String] = []
            for (name, value) in config.sorted(by: { $0.key < $1.key }) {
                let old = try db.details.configValue(sessionRowId: row.id, name: name)
                guard old != value else { continue }
                try db.details.upsertConfig(sessionRowId: row.id, name: name, value: value, at: now)
                let shown = { (value: String) in redacted.contains(name) ? SessionStoreConfiguration.redactedValue : value }
                var payload = ["name": name, "new": shown(value)]
                payload["old"] = old.map(shown)
                try db.events.append(at: now, kind: EventKind.configChanged, subject: row.subject, payload: payload)
                changed.append(name)
            }
            if !changed.isEmpty {
                let count = try db.details.configCount(sessionRowId: row.id)
                guard count <= Int64(maxConfig) else {
                    throw SessionStoreError(
                        code: SessionStoreError.Code.configPerSession,
                        message: "session \(key) would hold \(count) config entries; the limit is \(maxConfig)")
                }
            }
            return changed
        }
    }

    /// Replaces the session's identifier (`nil` clears it). Counts as an access.
    public func updateIdentifier(key: String, _ identifier: String?) async throws {
        try await updateIdentifier(key: key, identifier, scope: nil)
    }

    func updateIdentifier(key: String, _ identifier: String?, scope: AccessScope?) async throws {
        let key = try configuration.validator.key(key)
        let identifier = try configuration.validator.optionalId(identifier, field: .invalidIdentifier)
        try await mutate(key: key, scope: scope) { db, row, now in
            // Bytes, as SQLite compares: an old NFD identifier is replaced by its NFC form.
            guard row.identifier.map({ Array($0.utf8) }) != identifier.map({ Array($0.utf8) }) else { return }
            try db.sessions.setIdentifier(sessionRowId: row.id, identifier: identifier)
            var payload: [String: String] = [:]
            payload["old"] = row.identifier
            payload["new"] = identifier
            try db.events.append(at: now, kind: EventKind.identifierChanged, subject: row.subject, payload: payload)
        }
    }

    /// Ends the session: state `closed`, end time and reason recorded, one
    /// `session.ended` event, all in one transaction. Idempotent: closing an ended
    /// session changes nothing and writes no second event.
    ///
    /// - Returns: the session as it is now (ended), and whether this call ended it —
    ///   decided in the transaction, so of concurrent closes of one key exactly one says
    ///   it closed.
    /// - Throws: `INVALID_HANDLE.SESSION_NOT_FOUND` for an unknown key;
    ///   `INVALID_HANDLE.SESSION_EXPIRED` for a session that expired (ended by expiry, or
    ///   overdue: then this call ends it as expired, as the sweeper would).
    @discardableResult
    public func closeSession(key: String, reason: String = "closed by client") async throws -> ClosedSession {
        try await closeSession(key: key, reason: reason, scope: nil)
    }

    @discardableResult
    func closeSession(key: String, reason: String, scope: AccessScope?) async throws -> ClosedSession {
        let started = ContinuousClock.now
        defer { metrics.operations.closeSession.record(since: started) }
        let key = try configuration.validator.key(key)
        try configuration.validator.value(reason, field: .invalidReason)
        let configuration = self.configuration
        let outcome = try await write { db throws -> KeyedWrite<(Session, EndedSession?)> in
            let row = try Access.row(db, key: key, scope: scope)
            let now = db.now
            guard row.state != .expired else { throw Access.sessionExpired(key) }
            if row.isOverdue(at: configuration.expiryInstant(now)) {
                return .expired(try SessionEnding.endExpired(db, row, at: now))
            }
            let ended = try SessionEnding.end(db, row, as: .closed, reason: reason, at: now)
            return .done((try db.sessions.load(ended?.row ?? row, scope: scope), ended))
        }
        let (session, ended) = try finish(outcome, key: key)
        if let ended {
            didEnd(ended)
        }
        return ClosedSession(session: session, closedByThisCall: ended != nil)
    }

    /// Metrics, log line and resource callbacks for a session ended by a committed
    /// transaction.
    func didEnd(_ ended: EndedSession) {
        sessionMetrics.ended(ended.state)
        logger.debug(
            "session ended",
            metadata: [
                "session.key": "\(ended.row.key)", "session.state": "\(ended.state.rawValue)",
                "session.canceled_executions": "\(ended.canceledOperations.count)",
                "session.released_resources": "\(ended.releasedResources.count)",
            ])
        if let handler = configuration.resourceReleaseHandler {
            ended.releasedResources.forEach(handler)
        }
    }

    /// Runs `body` on the live session `key` in a write transaction, after recording the
    /// access. A session found overdue is ended as the sweeper would end it (committed,
    /// one `session.ended` event) and the call answers `INVALID_HANDLE.SESSION_EXPIRED`.
    /// A session outside `scope` answers `INVALID_HANDLE.SESSION_NOT_FOUND`, as an unknown
    /// key does, decided in the same transaction and before anything is written.
    func mutate<T: Sendable>(
        key: String, scope: AccessScope?, _ body: @escaping @Sendable (any StorageTransaction, SessionRow, Int64) throws -> T
    ) async throws(SessionStoreError) -> T {
        let configuration = self.configuration
        let expiry = configuration.expiry
        let outcome = try await write { db -> KeyedWrite<T> in
            let row = try Access.storedLiveRow(db, key: key, scope: scope)
            let now = db.now
            if row.isOverdue(at: configuration.expiryInstant(now)) {
                return .expired(try SessionEnding.endExpired(db, row, at: now))
            }
            try Access.record(db, row, now: now, expiry: expiry)
            return .done(try body(db, row, now))
        }
        return try finish(outcome, key: key)
    }
}
