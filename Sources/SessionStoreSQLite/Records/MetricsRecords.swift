import SessionStoreSQLite

/// The SQL of ``MetricsSnapshot``: the counters the triggers keep (`live_session_counts`,
/// `event_totals`) and the running executions by status.
enum MetricsRecords {
    /// The most overdue sessions a snapshot reads to leave them out of the live counts.
    static let overdueReadLimit = 10_000

    /// Live sessions by data source and state at `instant`, ordered by data source then
    /// state; a data source and state without a live session has no entry (the triggers
    /// delete a count that falls to 0). Sessions overdue at `instant` are not counted: they
    /// are expired for every reader. They are read through the expiry index (up to
    /// ``overdueReadLimit``, the earliest), so the cost follows the number overdue, not the
    /// number live.
    static func liveSessionCounts(_ db: Database, at instant: ExpiryInstant) throws(SQLiteError) -> [MetricsSnapshot.SessionCount] {
        var overdue: [String: Int64] = [:]
        for row in try SessionRecords.due(db, now: instant.now, limit: overdueReadLimit) where row.isOverdue(at: instant) {
            overdue[row.dataSource + "\t" + row.state.rawValue, default: 0] += 1
        }
        return try storedLiveSessionCounts(db).map { count in
            var count = count
            count.count -= overdue[count.dataSource + "\t" + count.state.rawValue] ?? 0
            return count
        }.filter { $0.count > 0 }
    }

    /// The live counts the triggers keep, overdue sessions included.
    private static func storedLiveSessionCounts(_ db: Database) throws(SQLiteError) -> [MetricsSnapshot.SessionCount] {
        try db.fetchAll(
            sql: """
                SELECT name, live FROM live_session_counts
                WHERE scope = 'data_source_state'
                ORDER BY name
                """
        ) { row -> MetricsSnapshot.SessionCount? in
            // The row's name is "<data source>\t<state>".
            let parts = row.string(0).split(separator: "\t", omittingEmptySubsequences: false)
            guard parts.count == 2, let state = SessionState(rawValue: String(parts[1])) else { return nil }
            return MetricsSnapshot.SessionCount(state: state, dataSource: String(parts[0]), count: row.int64(1))
        }.compactMap { $0 }
    }

    /// The all-time totals of events of `kind`, one per detail (an end state, a refusal
    /// code, an execution status), ordered by detail.
    static func eventTotals(_ db: Database, kind: EventKind) throws(SQLiteError) -> [MetricsSnapshot.Total] {
        try db.fetchAll(
            sql: """
                SELECT detail, total FROM event_totals
                WHERE kind = ?
                ORDER BY detail
                """, [.text(kind.rawValue)]
        ) { MetricsSnapshot.Total(label: $0.string(0), total: $0.int64(1)) }
    }

    /// Running executions by status, ordered by status; one row per status present.
    static func runningExecutionCounts(_ db: Database) throws(SQLiteError) -> [MetricsSnapshot.Total] {
        try db.fetchAll(
            sql: """
                SELECT status, count(*) FROM executions
                WHERE status IN \(ExecutionRecords.runningStatuses)
                GROUP BY status
                ORDER BY status
                """
        ) { MetricsSnapshot.Total(label: $0.string(0), total: $0.int64(1)) }
    }
}
