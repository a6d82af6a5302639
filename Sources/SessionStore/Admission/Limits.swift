import SessionStoreSQLite

/// The session-count limits, read from `live_session_counts` inside the transaction that
/// would insert, so no two opens can both see room for one.
enum Limits {
    /// One session-count limit as it applies to an open: its row in
    /// `live_session_counts` and how to name it in a refusal.
    private struct Check {
        let code: SessionStoreError.Code
        let limit: Int
        let scope: String
        let name: String
        let subject: () -> String
    }

    static func refusal(_ db: Database, limits: SessionLimits, request: OpenSessionRequest) throws(SQLiteError) -> OpenRefusal? {
        for check in checks(limits, request) {
            let live = try SessionRecords.liveCount(db, scope: check.scope, name: check.name)
            if live >= Int64(check.limit) {
                let error = SessionStoreError(
                    code: check.code, message: "\(check.subject()) has \(live) live sessions; the limit is \(check.limit)")
                return OpenRefusal(error, limit: check.limit, live: live)
            }
        }
        return nil
    }

    /// The configured limits that apply to `request`; empty (and free) when none is set.
    private static func checks(_ limits: SessionLimits, _ request: OpenSessionRequest) -> [Check] {
        var checks: [Check] = []
        let user = request.userId
        if let limit = limits.maxSessions {
            checks.append(Check(code: SessionStoreError.Code.sessionsTotal, limit: limit, scope: "total", name: "") { "the store" })
        }
        if let limit = limits.maxSessionsPerUser {
            checks.append(Check(code: SessionStoreError.Code.sessionsPerUser, limit: limit, scope: "user", name: user) {
                "user \(user.debugDescriptionPrefix)"
            })
        }
        if let limit = limits.maxSessionsPerDataSource {
            let source = request.dataSource
            checks.append(Check(code: SessionStoreError.Code.sessionsPerDataSource, limit: limit, scope: "data_source", name: source) {
                "data source \(source.debugDescriptionPrefix)"
            })
        }
        if let address = request.clientAddress {
            if let limit = limits.maxSessionsPerAddress {
                checks.append(Check(code: SessionStoreError.Code.sessionsPerAddress, limit: limit, scope: "address", name: address) {
                    "address \(address.debugDescriptionPrefix)"
                })
            }
            if let limit = limits.maxSessionsPerUserAddress {
                checks.append(
                    Check(code: SessionStoreError.Code.sessionsPerUserAddress, limit: limit, scope: "user_address", name: user + "\t" + address) {
                        "user \(user.debugDescriptionPrefix) from \(address.debugDescriptionPrefix)"
                    })
            }
        }
        return checks
    }
}

extension Limits {
    /// A per-session limit, checked inside the transaction that would add one more: refuses
    /// with `code` when session `key` already holds `limit` of `what`; nothing when no limit
    /// is set (and `count` is not run).
    static func enforcePerSession(
        _ limit: Int?, code: SessionStoreError.Code, key: String, what: String, count: () throws -> Int64
    ) throws {
        guard let limit else { return }
        let held = try count()
        guard held < Int64(limit) else {
            throw SessionStoreError(code: code, message: "session \(key) has \(held) \(what); the limit is \(limit)")
        }
    }
}
