import SessionStoreSQLite

/// The SQL of listing sessions by filter, page by page.
enum SessionListRecords {
    /// Sessions matching the filter at `instant`, oldest first, each as readers see it
    /// (``SessionRow/seen(at:)``): an overdue session is listed as expired, so it is left
    /// out of live lists and included in lists of ended or expired sessions. The state
    /// condition is written with literal states so SQLite can use the partial indexes; the
    /// expiry conditions select a superset, decided exactly in Swift, and a page that lost
    /// rows to that decision is filled from the rows after it.
    static func list(_ db: Database, _ filter: SessionFilter, afterRowId: Int64, at instant: ExpiryInstant) throws(SQLiteError) -> [SessionRow] {
        var listed: [SessionRow] = []
        var after = afterRowId
        while listed.count < filter.limit {
            let wanted = filter.limit - listed.count
            let page = try db.fetchAll(sql: sql(filter), arguments(filter, afterRowId: after, now: instant.now, limit: wanted), map: SessionRecords.row)
            listed += page.lazy.map { $0.seen(at: instant) }.filter { filter.states.includes($0.state) }
            guard page.count == wanted, let last = page.last else { break }
            after = last.id
        }
        return listed
    }

    private static func sql(_ filter: SessionFilter) -> String {
        var conditions = ["id > ?"]
        switch filter.states {
        case .live: conditions.append("state IN ('idle', 'active')")
        case .ended:
            conditions.append("(state IN ('closed', 'expired', 'failed') OR (state IN ('idle', 'active') AND \(SessionRecords.mayBeOverdueSQL)))")
        case .only(.expired):
            conditions.append("(state = 'expired' OR (state IN ('idle', 'active') AND \(SessionRecords.mayBeOverdueSQL)))")
        case .all: break
        case .only(let state): conditions.append("state = '\(state.rawValue)'")
        }
        if filter.userId != nil { conditions.append("user_id = ?") }
        if filter.dataSource != nil { conditions.append("data_source = ?") }
        if filter.states.mayListLive { conditions.append(SessionRecords.notOverdueSQL) }
        return """
            SELECT \(SessionRecords.columns) FROM sessions
            WHERE \(conditions.joined(separator: " AND "))
            ORDER BY id
            LIMIT ?
            """
    }

    /// The arguments of ``sql(_:)`` in the order of its placeholders.
    private static func arguments(_ filter: SessionFilter, afterRowId: Int64, now: Int64, limit: Int) -> [DatabaseValue] {
        var arguments: [DatabaseValue] = [.integer(afterRowId)]
        if filter.states.mayListOverdue { arguments.append(.integer(now)) }
        if let userId = filter.userId { arguments.append(.text(userId)) }
        if let dataSource = filter.dataSource { arguments.append(.text(dataSource)) }
        if filter.states.mayListLive { arguments.append(.integer(now)) }
        arguments.append(.integer(Int64(limit)))
        return arguments
    }
}

extension SessionFilter.States {
    /// Whether a session in `state` (as readers see it) belongs to these states.
    func includes(_ state: SessionState) -> Bool {
        switch self {
        case .live: state.isLive
        case .ended: state == .closed || state == .expired || state == .failed
        case .all: true
        case .only(let only): state == only
        }
    }

    /// Only the live states: the query keeps overdue rows out with ``SessionRecords/notOverdueSQL``.
    fileprivate var mayListLive: Bool {
        self == .live || self == .only(.idle) || self == .only(.active)
    }

    /// The ended states that include expired: the query takes in overdue rows with
    /// ``SessionRecords/mayBeOverdueSQL``.
    fileprivate var mayListOverdue: Bool {
        self == .ended || self == .only(.expired)
    }
}
