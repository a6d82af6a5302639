import SessionStoreCore

/// The SQL of listing sessions by filter, page by page, in a ``SessionOrder``.
struct SessionListRecords: SessionListRepository {
    let db: PGConnection

    /// Up to `limit` stored rows that may match the filter at `now`, in its order, after
    /// `after`. The state condition is written with literal states so the planner can use
    /// the partial indexes; the expiry conditions select a superset that the service layer
    /// decides (an overdue session is listed as expired). An order read in two indexes (by
    /// expiry: the sessions with a stored expiry, then those without) goes on to the
    /// second when the first runs out.
    func page(_ filter: SessionFilter, after: SessionListPosition?, now: Int64, limit: Int) throws -> [SessionListPosition] {
        var rows: [SessionListPosition] = []
        var cursor: Cursor? = Cursor.start(filter, after: after)
        while rows.count < limit, let current = cursor {
            let wanted = limit - rows.count
            let (sql, arguments) = Self.statement(filter, current, now: now, limit: wanted)
            let page = try db.fetchAll(sql: sql, arguments) { row throws(PostgresError) in
                SessionListPosition(row: try SessionRecords.row(row), storedExpireAt: row.optionalInt64(Self.storedExpiryIndex))
            }
            rows += page
            cursor = page.count == wanted ? nil : current.next
        }
        return rows
    }

    /// The stored expiry of the session with row id `rowId`: where a listing by expiry
    /// resumes after it (a row read through ``SessionRecords/row(_:)`` carries the effective one).
    func storedExpiry(rowId: Int64) throws -> Int64? {
        try db.fetchInt64(sql: "SELECT expire_at FROM sessions WHERE id = ?", [.integer(rowId)])
    }

    /// The column after ``SessionRecords/columns`` that a page selects the stored expiry into.
    private static let storedExpiryIndex = SessionRecords.columns.split(separator: ",").count

    /// The keyset a page starts after, one per index an order reads.
    private enum Cursor {
        /// Creation order, and the sessions without an expiry in ``SessionOrder/expires``.
        case ascending(Int64)
        /// ``SessionOrder/newest``.
        case descending(Int64)
        /// ``SessionOrder/user``: `sessions_by_user`, user ids in byte order.
        case user(String, Int64)
        /// The sessions with a stored expiry in ``SessionOrder/expires``: `sessions_by_expiry`.
        case expiry(Int64, Int64)

        static func start(_ filter: SessionFilter, after: SessionListPosition?) -> Cursor {
            switch filter.order {
            case .created: return .ascending(after?.row.id ?? 0)
            case .newest: return .descending(after?.row.id ?? Int64.max)
            case .user: return after.map { .user($0.row.userId, $0.row.id) } ?? .user("", 0)
            case .expires:
                guard let after else { return filter.states.mayHaveExpiry ? .expiry(Int64.min, 0) : .ascending(0) }
                if filter.states.mayHaveExpiry, after.row.state.isLive, let stored = after.storedExpireAt {
                    return .expiry(stored, after.row.id)
                }
                return .ascending(after.row.id)
            }
        }

        /// After a short page: the sessions without an expiry follow those with one; any
        /// other order has ended.
        var next: Cursor? {
            guard case .expiry = self else { return nil }
            return .ascending(0)
        }
    }

    /// The query of one page and its arguments, in the order of its placeholders. User
    /// ids are compared and ordered with `COLLATE "C"`: byte order, whatever the
    /// database's collation, so pages follow one another as on every backend.
    private static func statement(_ filter: SessionFilter, _ cursor: Cursor, now: Int64, limit: Int) -> (String, [PGValue]) {
        var conditions: [String] = []
        var arguments: [PGValue] = []
        func add(_ condition: String, _ values: PGValue...) {
            conditions.append(condition)
            arguments += values
        }
        let order: String
        switch cursor {
        case .ascending(let id):
            add("id > ?::bigint", .integer(id))
            order = "id"
        case .descending(let id):
            add("id < ?::bigint", .integer(id))
            order = "id DESC"
        case .user(let user, let id):
            add("(user_id COLLATE \"C\", id) > (?::text, ?::bigint)", .text(user), .integer(id))
            order = "user_id COLLATE \"C\", id"
        case .expiry(let expireAt, let id):
            add("(expire_at, id) > (?::bigint, ?::bigint)", .integer(expireAt), .integer(id))
            order = "expire_at, id"
        }
        let withExpiry: Bool
        if case .expiry = cursor { withExpiry = true } else { withExpiry = false }
        if withExpiry {
            expiringStates(filter.states, now: now, add)
        } else if filter.order == .expires {
            statesWithoutExpiry(filter.states, now: now, add)
        } else {
            states(filter.states, now: now, add)
        }
        if let userId = filter.userId { add("user_id = ?::text", .text(userId)) }
        if let dataSource = filter.dataSource { add("data_source = ?::text", .text(dataSource)) }
        if filter.states.mayListLive { add(SessionRecords.notOverdueSQL, .integer(now)) }
        arguments.append(.integer(Int64(limit)))
        let sql = """
            SELECT \(SessionRecords.columns), expire_at FROM sessions
            WHERE \(conditions.joined(separator: " AND "))
            ORDER BY \(order)
            LIMIT ?
            """
        return (sql, arguments)
    }

    /// The state condition of `states`.
    private static func states(_ states: SessionFilter.States, now: Int64, _ add: (String, PGValue...) -> Void) {
        switch states {
        case .live: add("state IN ('idle', 'active')")
        case .ended:
            add("(state IN ('closed', 'expired', 'failed') OR (state IN ('idle', 'active') AND \(SessionRecords.mayBeOverdueSQL)))", .integer(now))
        case .only(.expired):
            add("(state = 'expired' OR (state IN ('idle', 'active') AND \(SessionRecords.mayBeOverdueSQL)))", .integer(now))
        case .all: break
        case .only(let state): add("state = '\(state.rawValue)'")
        }
    }

    /// The rows of `states` with a stored expiry: live in storage, read in
    /// `sessions_by_expiry` (whose condition the literal `IN` list repeats).
    private static func expiringStates(_ states: SessionFilter.States, now: Int64, _ add: (String, PGValue...) -> Void) {
        switch states {
        case .live, .all: add("state IN ('idle', 'active')")
        case .only(let state) where state.isLive: add("state IN ('idle', 'active') AND state = '\(state.rawValue)'")
        case .ended, .only(.expired): add("state IN ('idle', 'active') AND \(SessionRecords.mayBeOverdueSQL)", .integer(now))
        // No session of the other states has a stored expiry: ``Cursor/start(_:after:)``
        // begins them without this part.
        case .only: add("false")
        }
    }

    /// The rows of `states` without a stored expiry: those that never expire, and ended
    /// ones.
    private static func statesWithoutExpiry(_ states: SessionFilter.States, now: Int64, _ add: (String, PGValue...) -> Void) {
        switch states {
        case .live: add("state IN ('idle', 'active') AND expire_at IS NULL")
        case .only(let state) where state.isLive: add("state IN ('idle', 'active') AND state = '\(state.rawValue)' AND expire_at IS NULL")
        case .ended: add("state IN ('closed', 'expired', 'failed')")
        case .all: add("(state NOT IN ('idle', 'active') OR expire_at IS NULL)")
        case .only(let state): add("state = '\(state.rawValue)'")
        }
    }
}
