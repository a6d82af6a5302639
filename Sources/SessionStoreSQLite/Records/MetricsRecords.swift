import SessionStoreCore

// The SQL of ``MetricsSnapshot``: the counters the triggers keep (`live_session_counts`,
// `event_totals`) and the running executions by status.

extension SessionRecords {
    /// The live counts the triggers keep, overdue sessions included.
    func storedLiveCounts() throws(SQLiteError) -> [MetricsSnapshot.SessionCount] {
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

}

extension EventLog {
    /// The all-time totals of events of `kind`, one per detail (an end state, a refusal
    /// code, an execution status), ordered by detail.
    func totals(kind: EventKind) throws(SQLiteError) -> [MetricsSnapshot.Total] {
        try db.fetchAll(
            sql: """
                SELECT detail, total FROM event_totals
                WHERE kind = ?
                ORDER BY detail
                """, [.text(kind.rawValue)]
        ) { MetricsSnapshot.Total(label: $0.string(0), total: $0.int64(1)) }
    }

}

extension ExecutionRecords {
    /// Running executions by status, ordered by status; one row per status present.
    func runningCounts() throws(SQLiteError) -> [MetricsSnapshot.Total] {
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
