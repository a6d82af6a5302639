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

    /// Counts a use of `row` as a touch: expiry moves to the bucket of `now + timeout`
    /// when that is later than the current one, and nothing is written otherwise.
    static func record(_ db: Database, _ row: SessionRow, now: Int64, expiry: Expiry) throws(SQLiteError) {
        guard let timeout = row.timeoutMs, let current = row.expireAt else { return }
        let expireAt = expiry.expireAt(now: now, timeoutMs: timeout)
        if expireAt > current {
            _ = try SessionRecords.touch(db, id: row.id, now: now, expireAt: expireAt)
        }
    }
}
