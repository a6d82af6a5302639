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

/// The session-count limits, read from `live_session_counts` inside the transaction that
/// would insert, so no two opens can both see room for one.
enum Limits {
    struct Refusal: Sendable {
        let error: SessionStoreError
        let payload: [String: String]
    }

    static func refusal(_ db: Database, limits: SessionLimits, request: OpenSessionRequest) throws(SQLiteError) -> Refusal? {
        var checks: [(code: String, limit: Int?, scope: String, name: String, what: String)] = [
            (SessionStoreError.Code.sessionsTotal, limits.maxSessions, "total", "", "the store"),
            (SessionStoreError.Code.sessionsPerUser, limits.maxSessionsPerUser, "user", request.userId,
             "user \(request.userId.debugDescriptionPrefix)"),
            (SessionStoreError.Code.sessionsPerDataSource, limits.maxSessionsPerDataSource, "data_source",
             request.dataSource, "data source \(request.dataSource.debugDescriptionPrefix)"),
        ]
        if let address = request.clientAddress {
            checks.append(
                (SessionStoreError.Code.sessionsPerAddress, limits.maxSessionsPerAddress, "address", address,
                 "address \(address.debugDescriptionPrefix)"))
            checks.append(
                (SessionStoreError.Code.sessionsPerUserAddress, limits.maxSessionsPerUserAddress, "user_address",
                 request.userId + "\t" + address,
                 "user \(request.userId.debugDescriptionPrefix) from \(address.debugDescriptionPrefix)"))
        }
        for check in checks {
            guard let limit = check.limit else { continue }
            let live = try SessionRecords.liveCount(db, scope: check.scope, name: check.name)
            if live >= Int64(limit) {
                let error = SessionStoreError(
                    code: check.code, message: "\(check.what) has \(live) live sessions; the limit is \(limit)")
                return Refusal(error: error, payload: ["code": check.code, "limit": "\(limit)", "live": "\(live)"])
            }
        }
        return nil
    }
}
