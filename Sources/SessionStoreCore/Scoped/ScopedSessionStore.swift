import Foundation

extension SessionStore {
    /// The store as `principal` may use it: the view a network front end serves each
    /// authenticated caller through.
    ///
    /// ```swift
    /// let alice = try store.acting(as: "alice")
    /// let session = try await alice.openSession(sessionId: "notebook-1")
    /// _ = try await alice.touch(key: session.key)
    ///
    /// let mallory = try store.acting(as: "mallory")
    /// _ = try await mallory.session(key: session.key)  // nil, as for a key that never existed
    /// ```
    ///
    /// `principal` is the caller's authenticated user name. It may act on its own
    /// sessions and on those of the users ``SessionStoreConfiguration/impersonationPolicy``
    /// lets it act as (`allows(principal:toActAs:)`); see ``ScopedSessionStore`` for what
    /// each call guarantees. The methods of `SessionStore` itself are unchecked: they are
    /// for trusted code in the process.
    ///
    /// - Throws: `INVALID_ARGUMENT.USER_ID` when `principal` is not a valid user id.
    public func acting(as principal: String) throws -> ScopedSessionStore {
        let principal = try configuration.validator.id(principal, field: .invalidUserId)
        return ScopedSessionStore(
            store: self, scope: AccessScope(principal: principal, policy: configuration.impersonationPolicy))
    }

    /// The unscoped API in the shape of ``ScopedSessionStore``: every call may act on every
    /// session and listing calls without a `user:` read every user, exactly as the methods
    /// of `SessionStore` do. For a front end that can run with authentication off (a
    /// loopback-only server, `sessionctl serve --listen` with `--auth none`) and serves
    /// both modes through one type; its ``ScopedSessionStore/principal`` is `nil`.
    ///
    /// ```swift
    /// let view = authenticated.map { try store.acting(as: $0) } ?? store.trustedView()
    /// ```
    public func trustedView() -> ScopedSessionStore {
        ScopedSessionStore(store: self, scope: nil)
    }
}

/// A ``SessionStore`` seen by one principal (``SessionStore/acting(as:)``): every call a
/// client can make, each restricted to the sessions the principal may act on — those of
/// its own user, and those of the users the store's
/// ``SessionStoreConfiguration/impersonationPolicy`` lets it act as.
///
/// - A keyed call on a session the principal may not act on answers exactly what it
///   answers for a key that does not exist (`nil`, ``TouchResult/unknown``, or
///   `INVALID_HANDLE.SESSION_NOT_FOUND` with the same message), and writes nothing, no
///   event either. The owner is checked in the read or write transaction of the call.
/// - A link (``addAssociate(parentKey:childKey:)``, an open with associates) needs that
///   right on both sessions.
/// - Sessions returned (by a get, a list, a tree, children or parents) never name a
///   session outside the scope among their ``Session/parents`` or ``Session/children``;
///   a tree leaves such sessions out of its nodes and edges and does not walk through them.
/// - Listing calls, event streams, notifications, durable subscriptions and execution
///   lists read the principal's own user, or another user named with `user:`, which the
///   policy must allow (else `PERMISSION_DENIED.IMPERSONATION`); one call reads one user.
///   Store-wide events (recovery, sweeper) have no user and are never delivered here,
///   and a `session.linked` event names its child only when the principal may act on it.
///
/// A value is cheap to make and `Sendable`: make one per request or per connection.
public struct ScopedSessionStore: Sendable {
    let store: SessionStore
    /// `nil` for ``SessionStore/trustedView()``.
    let scope: AccessScope?

    /// The authenticated user name the view acts for; `nil` for
    /// ``SessionStore/trustedView()``.
    public var principal: String? { scope?.principal }

    /// The user a listing call reads: `user`, or the principal when `nil`; in the trusted
    /// view, `user` as given (`nil`: every user).
    func user(_ user: String?) throws(SessionStoreError) -> String? {
        guard let scope else { return try store.configuration.validator.optionalId(user, field: .invalidUserId) }
        return try scope.user(user, validator: store.configuration.validator)
    }

    /// `event` as the view may show it.
    func shown(_ event: StoreEvent) -> StoreEvent {
        scope?.shown(event) ?? event
    }
}

// MARK: Sessions

extension ScopedSessionStore {
    /// Opens a session as ``SessionStore/openSession(_:)`` does, for the request's user:
    /// the principal itself, or a user the impersonation policy lets it act as. Each
    /// associate must be a session the principal may act on.
    ///
    /// - Throws: what ``SessionStore/openSession(_:)`` throws;
    ///   `PERMISSION_DENIED.IMPERSONATION` (recorded as a `session.refused` event) when the
    ///   principal may not act as the request's user; `INVALID_HANDLE.SESSION_NOT_FOUND`
    ///   for an associate outside the scope, nothing written.
    public func openSession(_ request: OpenSessionRequest) async throws -> Session {
        try await openSessionReportingOutcome(request).session
    }

    /// ``openSession(_:)`` telling whether the session is new; see
    /// ``SessionStore/openSessionReportingOutcome(_:)``.
    public func openSessionReportingOutcome(_ request: OpenSessionRequest) async throws -> OpenedSession {
        try await store.openSessionReportingOutcome(request, scope: scope)
    }

    /// Opens a session of the principal's own user from its parts; see ``openSession(_:)``.
    public func openSession(
        sessionId: String? = nil, dataSource: String = "default", details: [String: String] = [:],
        config: [String: String] = [:], timeout: SessionTimeout? = nil
    ) async throws -> Session {
        try await openSession(
            OpenSessionRequest(
                userId: principal ?? "", sessionId: sessionId, dataSource: dataSource, details: details, config: config,
                timeout: timeout))
    }

    /// The live session `sessionId` of `user` (the principal when `nil`), opened if it
    /// does not exist; see ``SessionStore/openIsolatedSessionReportingOutcome(userId:sessionId:)``.
    ///
    /// - Throws: `PERMISSION_DENIED.IMPERSONATION` for a user the principal may not act as.
    public func openIsolatedSessionReportingOutcome(sessionId: String, user: String? = nil) async throws -> OpenedSession {
        try await store.openIsolatedSessionReportingOutcome(userId: self.user(user) ?? "", sessionId: sessionId, scope: scope)
    }

    /// ``openIsolatedSessionReportingOutcome(sessionId:user:)``'s session.
    public func openIsolatedSession(sessionId: String, user: String? = nil) async throws -> Session {
        try await openIsolatedSessionReportingOutcome(sessionId: sessionId, user: user).session
    }

    /// The session `user` (the principal when `nil`) opened as `sessionId`; see
    /// ``SessionStore/isolatedSession(userId:sessionId:)``.
    ///
    /// - Throws: `PERMISSION_DENIED.IMPERSONATION` for a user the principal may not act as.
    public func isolatedSession(sessionId: String, user: String? = nil) async throws -> Session? {
        try await store.isolatedSession(userId: self.user(user) ?? "", sessionId: sessionId, scope: scope)
    }

    /// The session with `key`; `nil` when there is none or the principal may not act on
    /// it. See ``SessionStore/session(key:)``.
    public func session(key: String) async throws -> Session? {
        try await store.session(key: key, scope: scope)
    }

    /// Records that the session is in use; ``TouchResult/unknown`` for a session outside
    /// the scope. See ``SessionStore/touch(key:)``.
    public func touch(key: String) async throws -> TouchResult {
        try await store.touch(key: key, scope: scope)
    }

    /// Records that many sessions are in use, in one storage round; a key outside the
    /// scope answers ``TouchResult/unknown`` for itself alone. See
    /// ``SessionStore/touch(keys:)``.
    public func touch(keys: [String]) async throws -> [KeyTouch] {
        try await store.touch(keys: keys, scope: scope)
    }

    /// See ``SessionStore/updateDetails(key:_:)``.
    public func updateDetails(key: String, _ details: [String: String]) async throws {
        try await store.updateDetails(key: key, details, scope: scope)
    }

    /// See ``SessionStore/removeDetails(key:names:)``.
    public func removeDetails(key: String, names: [String]) async throws {
        try await store.removeDetails(key: key, names: names, scope: scope)
    }

    /// See ``SessionStore/updateDetails(key:set:remove:)``.
    @discardableResult
    public func updateDetails(key: String, set: [String: String], remove: [String]) async throws -> Session {
        try await store.updateDetails(key: key, set: set, remove: remove, scope: scope)
    }

    /// See ``SessionStore/setConfig(key:_:)``.
    @discardableResult
    public func setConfig(key: String, _ config: [String: String]) async throws -> [String] {
        try await store.setConfig(key: key, config, scope: scope)
    }

    /// See ``SessionStore/updateIdentifier(key:_:)``.
    public func updateIdentifier(key: String, _ identifier: String?) async throws {
        try await store.updateIdentifier(key: key, identifier, scope: scope)
    }

    /// See ``SessionStore/closeSession(key:reason:)``.
    @discardableResult
    public func closeSession(key: String, reason: String = "closed by client") async throws -> ClosedSession {
        try await store.closeSession(key: key, reason: reason, scope: scope)
    }

    /// Links `child` under `parent`; the principal must be able to act on both, or the
    /// one it may not act on answers `INVALID_HANDLE.SESSION_NOT_FOUND`. See
    /// ``SessionStore/addAssociate(parentKey:childKey:)``.
    public func addAssociate(parentKey parent: String, childKey child: String) async throws {
        try await store.addAssociate(parentKey: parent, childKey: child, scope: scope)
    }

    /// The children of `key` the principal may act on. See ``SessionStore/listChildren(key:)``.
    public func listChildren(key: String) async throws -> [Session] {
        try await store.listChildren(key: key, scope: scope)
    }

    /// The parents of `key` the principal may act on. See ``SessionStore/listParents(key:)``.
    public func listParents(key: String) async throws -> [Session] {
        try await store.listParents(key: key, scope: scope)
    }

    /// `key` with the descendants the principal may act on, reached only through such
    /// sessions. See ``SessionStore/sessionTree(key:)``.
    public func sessionTree(key: String) async throws -> SessionTree {
        try await store.sessionTree(key: key, scope: scope)
    }

    /// See ``SessionStore/sessionStatistics(key:)``.
    public func sessionStatistics(key: String) async throws -> SessionStatistics {
        try await store.sessionStatistics(key: key, scope: scope)
    }

    /// Sessions matching `filter`, of its ``SessionFilter/userId`` or, when it names none,
    /// of the principal. See ``SessionStore/listSessions(_:)``.
    ///
    /// - Throws: `PERMISSION_DENIED.IMPERSONATION` for a user the principal may not act as.
    public func listSessions(_ filter: SessionFilter = SessionFilter()) async throws -> [Session] {
        try await store.listSessions(filter, scope: scope)
    }

    /// The live sessions of `user` (the principal when `nil`), of one data source or all.
    /// See ``SessionStore/listCurrentSessions(dataSource:limit:)``.
    ///
    /// - Throws: `PERMISSION_DENIED.IMPERSONATION` for a user the principal may not act as.
    public func listCurrentSessions(dataSource: String? = nil, user: String? = nil, limit: Int = 10_000) async throws -> [Session] {
        let dataSource = try store.configuration.validator.optionalId(dataSource, field: .invalidDataSource)
        return try await listSessions(SessionFilter(states: .live, userId: user, dataSource: dataSource, limit: limit))
    }
}
