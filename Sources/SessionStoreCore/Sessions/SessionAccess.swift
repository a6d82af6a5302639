
/// Finding the session a call is about, and recording that it was used.
enum Access {
    /// The session with `key` if it is live at `instant`; otherwise
    /// `INVALID_HANDLE.SESSION_NOT_FOUND` (no such key, or a session `scope` may not act
    /// on), `INVALID_HANDLE.SESSION_EXPIRED` (overdue, or ended by expiry) or
    /// `INVALID_HANDLE.SESSION_CLOSED` (closing or ended otherwise). Writes nothing.
    static func liveRow(_ db: any StorageTransaction, key: String, scope: AccessScope?, at instant: ExpiryInstant) throws -> SessionRow {
        let row = try storedLiveRow(db, key: key, scope: scope)
        guard !row.isOverdue(at: instant) else { throw sessionExpired(key) }
        return row
    }

    /// The session with `key` if its stored state is live, overdue or not; otherwise
    /// ``liveRow(_:key:scope:at:)``'s errors. For writes that end an overdue session they meet.
    static func storedLiveRow(_ db: any StorageTransaction, key: String, scope: AccessScope?) throws -> SessionRow {
        let row = try row(db, key: key, scope: scope)
        guard row.state.isLive else { throw notLive(row, named: "session \(key)") }
        return row
    }

    /// The error for a call on `row`, which is not live: `INVALID_HANDLE.SESSION_EXPIRED`
    /// when it expired, `INVALID_HANDLE.SESSION_CLOSED` otherwise.
    static func notLive(_ row: SessionRow, named name: String) -> SessionStoreError {
        SessionStoreError(
            code: row.state == .expired ? SessionStoreError.Code.sessionExpired : SessionStoreError.Code.sessionClosed,
            message: "\(name) is \(row.state.rawValue)")
    }

    /// `INVALID_HANDLE.SESSION_EXPIRED` for session `key`.
    static func sessionExpired(_ key: String) -> SessionStoreError {
        SessionStoreError(code: SessionStoreError.Code.sessionExpired, message: "session \(key) is expired")
    }

    /// Counts a use of `row` at `now` as an access (``Expiry/movedExpiry(now:timeoutMs:current:)``
    /// decides whether expiry moves). Returns the row as it is after the access.
    @discardableResult
    static func record(_ db: any StorageTransaction, _ row: SessionRow, now: Int64, expiry: Expiry) throws -> SessionRow {
        guard let expireAt = expiry.movedExpiry(now: now, timeoutMs: row.timeoutMs, current: row.expireAt),
            try db.sessions.touch(sessionRowId: row.id, now: now, expireAt: expireAt)
        else { return row }
        var touched = row
        touched.lastAccessAt = now
        touched.expireAt = expireAt
        return touched
    }
}
