
/// The session-count limits, read from `live_session_counts` inside the transaction that
/// would insert, so no two opens can both see room for one. Overdue sessions hold no slot:
/// a limit that would refuse first ends (as expired, as the sweeper would) up to
/// ``overdueBatch`` overdue sessions counted against it, then decides.
enum Limits {
    /// The most overdue sessions one limit check ends before it decides.
    static let overdueBatch = 100

    /// One session-count limit as it applies to an open: its row in
    /// `live_session_counts` and how to name it in a refusal.
    private struct Check {
        let code: SessionStoreError.Code
        let limit: Int
        let scope: String
        let name: String
        /// The columns that select the sessions this limit counts.
        var columns: [ScopeColumn] = []
        let subject: () -> String
    }

    /// The refusal of the first limit `request` would exceed, `nil` when there is room;
    /// the overdue sessions ended to make room are appended to `ended`.
    static func refusal(
        _ db: any StorageTransaction, limits: SessionLimits, request: OpenSessionRequest, at instant: ExpiryInstant, ended: inout [EndedSession]
    ) throws -> OpenRefusal? {
        for check in checks(limits, request) {
            var live = try db.sessions.liveCount(scope: check.scope, name: check.name)
            if live >= Int64(check.limit) {
                let freed = try endOverdue(db, check, at: instant)
                ended += freed
                if !freed.isEmpty {
                    live = try db.sessions.liveCount(scope: check.scope, name: check.name)
                }
            }
            if live >= Int64(check.limit) {
                let error = SessionStoreError(
                    code: check.code, message: "\(check.subject()) has \(live) live sessions; the limit is \(check.limit)")
                return OpenRefusal(error, limit: check.limit, live: live)
            }
        }
        return nil
    }

    /// Ends up to ``overdueBatch`` overdue sessions counted against `check`, as expired.
    private static func endOverdue(_ db: any StorageTransaction, _ check: Check, at instant: ExpiryInstant) throws -> [EndedSession] {
        var ended: [EndedSession] = []
        for row in try db.sessions.mayBeOverdue(scope: check.columns, now: instant.now, limit: overdueBatch)
        where row.isOverdue(at: instant) {
            if let expired = try SessionEnding.endExpired(db, row, at: instant.now) { ended.append(expired) }
        }
        return ended
    }

    /// The configured limits that apply to `request`; empty (and free) when none is set.
    private static func checks(_ limits: SessionLimits, _ request: OpenSessionRequest) -> [Check] {
        var checks: [Check] = []
        let user = request.userId
        if let limit = limits.maxSessions {
            checks.append(Check(code: SessionStoreError.Code.sessionsTotal, limit: limit, scope: "total", name: "") { "the store" })
        }
        if let limit = limits.maxSessionsPerUser {
            checks.append(
                Check(
                    code: SessionStoreError.Code.sessionsPerUser, limit: limit, scope: "user", name: user,
                    columns: [.init(name: .userId, value: user)]
                ) {
                    "user \(user.debugDescriptionPrefix)"
                })
        }
        if let limit = limits.maxSessionsPerDataSource {
            let source = request.dataSource
            checks.append(
                Check(
                    code: SessionStoreError.Code.sessionsPerDataSource, limit: limit, scope: "data_source", name: source,
                    columns: [.init(name: .dataSource, value: source)]
                ) {
                    "data source \(source.debugDescriptionPrefix)"
                })
        }
        if let address = request.clientAddress {
            if let limit = limits.maxSessionsPerAddress {
                checks.append(
                    Check(
                        code: SessionStoreError.Code.sessionsPerAddress, limit: limit, scope: "address", name: address,
                        columns: [.init(name: .clientAddress, value: address)]
                    ) {
                        "address \(address.debugDescriptionPrefix)"
                    })
            }
            if let limit = limits.maxSessionsPerUserAddress {
                checks.append(
                    Check(
                        code: SessionStoreError.Code.sessionsPerUserAddress, limit: limit, scope: "user_address", name: user + "\t" + address,
                        columns: [.init(name: .userId, value: user), .init(name: .clientAddress, value: address)]
                    ) {
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
