
/// The principal a call acts for, and what decides which sessions it may act on: its
/// own user's, and those of the users the impersonation policy lets it act as.
///
/// Internal calls take an `AccessScope?`: `nil` is a trusted call of the unscoped
/// ``SessionStore`` API, which may act on every session. A session outside the scope is
/// treated as one that does not exist, in the read or transaction that finds it.
package struct AccessScope: Sendable {
    /// The authenticated user name, validated as a user id.
    let principal: String
    let policy: any ImpersonationPolicy

    /// Whether the principal may act on the sessions of `userId`. Its own user is
    /// compared byte for byte, as SQLite compares the `user_id` column.
    package func allows(_ userId: String) -> Bool {
        userId.hasSameBytes(as: principal) || policy.allows(principal: principal, toActAs: userId)
    }

    /// The user a listing call is about: `user`, or the principal when `nil`.
    ///
    /// - Throws: `INVALID_ARGUMENT.USER_ID` for an invalid name,
    ///   `PERMISSION_DENIED.IMPERSONATION` when the policy does not let the principal act
    ///   as `user`.
    func user(_ user: String?, validator: Validator) throws(SessionStoreError) -> String {
        guard let named = user else { return principal }
        let user = try validator.id(named, field: .invalidUserId)
        guard allows(user) else { throw denied(user) }
        return user
    }

    /// `event` as the principal may see it: the key of a linked child outside the scope
    /// is left out (and so is every child key of an event that does not name the
    /// child's user), the link itself is not.
    func shown(_ event: StoreEvent) -> StoreEvent {
        guard event.kind == EventKind.sessionLinked, event.payload["child"] != nil else { return event }
        if let childUser = event.payload["childUser"], allows(childUser) { return event }
        var shown = event
        shown.payload["child"] = nil
        shown.payload["childUser"] = nil
        return shown
    }

    /// `PERMISSION_DENIED.IMPERSONATION`: the principal may not act as `user`.
    func denied(_ user: String) -> SessionStoreError {
        SessionStoreError(
            code: SessionStoreError.Code.impersonationDenied,
            message: "\(principal.debugDescriptionPrefix) may not act as \(user.debugDescriptionPrefix)")
    }
}

extension AccessScope? {
    /// Whether a call in this scope may act on the sessions of `userId`: always for a
    /// trusted call (`nil`).
    package func allows(_ userId: String) -> Bool {
        self?.allows(userId) ?? true
    }
}

extension Access {
    /// The session with `key` if the scope may act on it; `nil` when there is no such
    /// session or it belongs to a user outside the scope — the two are never told apart.
    static func find(_ db: any StorageTransaction, key: String, scope: AccessScope?) throws -> SessionRow? {
        guard let row = try db.sessions.find(key: key), scope.allows(row.userId) else { return nil }
        return row
    }

    /// ``find(_:key:scope:)``, or `INVALID_HANDLE.SESSION_NOT_FOUND`.
    static func row(_ db: any StorageTransaction, key: String, scope: AccessScope?) throws -> SessionRow {
        guard let row = try find(db, key: key, scope: scope) else { throw SessionStoreError.sessionNotFound(key) }
        return row
    }
}
