import SessionStoreCore

extension SessionRecords {
    /// A condition true for every row not overdue at `now`, bound as its one `?`: no
    /// expiry, a stored expiry after `now`, a last access before the re-arm epoch (whose
    /// effective expiry may be later than the stored one), a stored expiry after a clean
    /// stop of the last serving process not yet re-armed (suspended), or `active` (which
    /// the sweeper may spare). A superset: callers decide exactly with
    /// ``SessionRow/isOverdue(at:)``. Lists of live sessions use it.
    static let notOverdueSQL = """
        (expire_at IS NULL OR expire_at > ?::bigint \
        OR last_access_at < (SELECT value FROM store_state WHERE name = '\(StoreStateKey.rearmEpoch.rawValue)') \
        OR expire_at > (SELECT value FROM store_state WHERE name = '\(StoreStateKey.servingStoppedAt.rawValue)') \
        OR state = 'active')
        """

    /// A condition true for every live row overdue at `now`, bound as its one `?`: the
    /// effective expiry is never earlier than the stored one, so an overdue row is due by
    /// its stored expiry (the sweeper's selection). A superset, decided exactly with
    /// ``SessionRow/isOverdue(at:)``.
    static let mayBeOverdueSQL = "expire_at <= ?::bigint"

    /// Up to `limit` live sessions matching every `scope` column that may be overdue at
    /// `now`, earliest stored expiry first: those a limit's count may hold for nothing.
    func mayBeOverdue(scope: [ScopeColumn], now: Int64, limit: Int) throws -> [SessionRow] {
        let conditions = scope.map { "AND \($0.name.rawValue) = ?" }.joined(separator: " ")
        return try db.fetchAll(
            sql: """
                SELECT \(Self.columns) FROM sessions
                WHERE state IN ('idle', 'active') AND \(Self.mayBeOverdueSQL) \(conditions)
                ORDER BY expire_at
                LIMIT ?
                """, [.integer(now)] + scope.map { .text($0.value) } + [.integer(Int64(limit))], map: Self.row)
    }
}
