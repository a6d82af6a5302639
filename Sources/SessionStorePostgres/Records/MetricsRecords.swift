import SessionStoreCore

// The SQL of ``MetricsSnapshot`` for events and executions: the totals a trigger keeps
// (`event_totals`) and the running executions by status.

extension EventLog {
    /// The all-time totals of events of `kind`, one per detail (an end state, a refusal
    /// code, an execution status), ordered by detail.
    func totals(kind: EventKind) throws -> [MetricsSnapshot.Total] {
        try db.fetchAll(
            sql: """
                SELECT detail, total FROM event_totals
                WHERE kind = ?
                ORDER BY detail COLLATE "C"
                """, [.text(kind.rawValue)]
        ) { MetricsSnapshot.Total(label: $0.string(0), total: $0.int64(1)) }
    }
}

extension ExecutionRecords {
    /// Running executions by status, ordered by status; one row per status present.
    func runningCounts() throws -> [MetricsSnapshot.Total] {
        try db.fetchAll(
            sql: """
                SELECT status, count(*) FROM executions
                WHERE status IN \(ExecutionRecords.runningStatuses)
                GROUP BY status
                ORDER BY status COLLATE "C"
                """
        ) { MetricsSnapshot.Total(label: $0.string(0), total: $0.int64(1)) }
    }
}
