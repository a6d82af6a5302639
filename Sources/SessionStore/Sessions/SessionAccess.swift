import SessionStoreSQLite

/// Finding the session a call is about, and recording that it was used.
enum Access {
    /// The session with `key` if it is live; otherwise `INVALID_HANDLE.SESSION_NOT_FOUND`
    /// (no such key) or `INVALID_HANDLE.SESSION_CLOSED` (closing or ended).
    static func liveRow(_ db: Database, key: String) throws -> SessionRow {
        guard let row = try SessionRecords.find(db, key: key) else {
            throw SessionStoreError.sessionNotFound(key)
        }
        guard row.state.isLive else {
            throw SessionStoreError(
                code: SessionStoreError.Code.sessionClosed,
                message: "session \(key) is \(row.state.rawValue)")
        }
        return row
    }

    /// Counts a use of `row` at `now` as an access (``Expiry/movedExpiry(now:timeoutMs:current:)``
    /// decides whether expiry moves). Returns the row as it is after the access.
    @discardableResult
    static func record(_ db: Database, _ row: SessionRow, now: Int64, expiry: Expiry) throws(SQLiteError) -> SessionRow {
        guard let expireAt = expiry.movedExpiry(now: now, timeoutMs: row.timeoutMs, current: row.expireAt),
            try SessionRecords.touch(db, sessionRowId: row.id, now: now, expireAt: expireAt)
        else { return row }
        var touched = row
        touched.lastAccessAt = now
        touched.expireAt = expireAt
        return touched
    }
}
