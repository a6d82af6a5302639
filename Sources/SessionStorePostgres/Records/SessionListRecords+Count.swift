import SessionStoreCore

extension SessionListRecords {
    /// The sessions matching `filter` at `now` (its limit, position and order aside): each
    /// state group counted in SQL from its own index, and the live rows whose stored
    /// expiry has passed, which may or may not be overdue, returned for the service layer
    /// to decide. Those are the sessions a sweeper has yet to reach: few while one runs.
    func count(_ filter: SessionFilter, now: Int64) throws -> SessionListCount {
        var scope: [String] = []
        var scopeArguments: [PGValue] = []
        if let userId = filter.userId {
            scope.append("user_id = ?::text")
            scopeArguments.append(.text(userId))
        }
        if let dataSource = filter.dataSource {
            scope.append("data_source = ?::text")
            scopeArguments.append(.text(dataSource))
        }
        var total: Int64 = 0
        for group in Self.groups(filter.states) {
            let certain = group.notYetDue ? ["(expire_at IS NULL OR expire_at > ?::bigint)"] : []
            let conditions = [group.states] + certain + scope
            let arguments: [PGValue] = (group.notYetDue ? [.integer(now)] : []) + scopeArguments
            total += try db.fetchInt64(
                sql: "SELECT count(*) FROM sessions WHERE \(conditions.joined(separator: " AND "))", arguments) ?? 0
        }
        guard let undecided = Self.undecidedStates(filter.states) else {
            return SessionListCount(counted: Int(total), undecided: [])
        }
        let conditions = [SessionRecords.mayBeOverdueSQL, undecided] + scope
        let rows = try db.fetchAll(
            sql: "SELECT \(SessionRecords.columns) FROM sessions WHERE \(conditions.joined(separator: " AND "))",
            [.integer(now)] + scopeArguments, map: SessionRecords.row)
        return SessionListCount(counted: Int(total), undecided: rows)
    }

    /// A state group of a count: its condition, written to match a partial index, and
    /// whether only its rows not yet due by their stored expiry are counted in SQL.
    private struct Group {
        let states: String
        var notYetDue = false
    }

    private static let live = "state IN ('idle', 'active')"
    private static let ended = "state IN ('closed', 'expired', 'failed')"

    /// The groups whose rows are counted in SQL.
    private static func groups(_ states: SessionFilter.States) -> [Group] {
        switch states {
        case .live: [Group(states: live, notYetDue: true)]
        case .ended: [Group(states: ended)]
        case .all: [Group(states: live), Group(states: ended), Group(states: "state = 'closing'")]
        case .only(.closing): [Group(states: "state = 'closing'")]
        case .only(let state) where state.isLive: [Group(states: "\(live) AND state = '\(state.rawValue)'", notYetDue: true)]
        case .only(let state): [Group(states: "\(ended) AND state = '\(state.rawValue)'")]
        }
    }

    /// The live rows whose stored expiry may have passed that `states` may count, decided
    /// in Swift; `nil` when it counts none (or counts them all in SQL).
    private static func undecidedStates(_ states: SessionFilter.States) -> String? {
        switch states {
        case .live, .ended, .only(.expired): live
        case .only(let state) where state.isLive: "\(live) AND state = '\(state.rawValue)'"
        case .all, .only: nil
        }
    }
}
