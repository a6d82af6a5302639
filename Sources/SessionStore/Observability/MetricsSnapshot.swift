import SessionStoreSQLite

/// The store's state as metrics, read from the file, so every process (and
/// `sessionctl metrics`) reports the same figures whoever made the changes.
///
/// Encodes the sweeper's times as `sweeperLagMs` and `sweeperPassMs`, in whole
/// milliseconds.
public struct MetricsSnapshot: Sendable, Hashable, Encodable {
    /// The number of live sessions in one state of one data source.
    public struct SessionCount: Sendable, Hashable, Codable {
        /// The sessions' state, `idle` or `active`.
        public var state: SessionState
        /// Their data source.
        public var dataSource: String
        /// How many there are.
        public var count: Int64
    }

    /// A count for one label.
    public struct Total: Sendable, Hashable, Codable {
        /// The ended state, refusal code or execution status the total is for.
        public var label: String
        /// The count.
        public var total: Int64
    }

    /// Live sessions by state and data source (the Stream API's sessions gauge,
    /// generalised).
    public var sessions: [SessionCount]
    /// Sessions ever opened (all time, not pruned with events).
    public var opened: Int64
    /// Sessions ended, by end state.
    public var ended: [Total]
    /// Opens refused, by error code (the limit, or the admission check).
    public var refusals: [Total]
    /// Running executions by status.
    public var runningExecutions: [Total]
    /// Executions moved to each status, all time.
    public var executionTransitions: [Total]
    /// The time since the last sweep pass of any process; `nil` before the first.
    public var sweeperLag: Duration?
    /// How long the last sweep pass took.
    public var sweeperPassDuration: Duration?

    private enum CodingKeys: String, CodingKey {
        case sessions, opened, ended, refusals, runningExecutions, executionTransitions
        case sweeperLag = "sweeperLagMs"
        case sweeperPassDuration = "sweeperPassMs"
    }

    /// Writes every field, the sweeper's times in whole milliseconds.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(sessions, forKey: .sessions)
        try container.encode(opened, forKey: .opened)
        try container.encode(ended, forKey: .ended)
        try container.encode(refusals, forKey: .refusals)
        try container.encode(runningExecutions, forKey: .runningExecutions)
        try container.encode(executionTransitions, forKey: .executionTransitions)
        try container.encodeIfPresent(sweeperLag?.wholeMilliseconds, forKey: .sweeperLag)
        try container.encodeIfPresent(sweeperPassDuration?.wholeMilliseconds, forKey: .sweeperPassDuration)
    }
}

extension SessionStore {
    /// Reads the figures of ``MetricsSnapshot``. Cost: a handful of index lookups, plus
    /// one row per running execution status; never a scan of sessions.
    public func metricsSnapshot() async throws -> MetricsSnapshot {
        let now = clock.now()
        return try await read { db in
            let sessions = try db.fetchAll(
                sql: """
                    SELECT name, live FROM live_session_counts
                    WHERE scope = 'data_source_state'
                    ORDER BY name
                    """
            ) { row -> MetricsSnapshot.SessionCount? in
                let parts = row.string(0).split(separator: "\t", omittingEmptySubsequences: false)
                guard parts.count == 2, let state = SessionState(rawValue: String(parts[1])) else { return nil }
                return MetricsSnapshot.SessionCount(state: state, dataSource: String(parts[0]), count: row.int64(1))
            }.compactMap { $0 }
            func totals(_ kind: EventKind) throws(SQLiteError) -> [MetricsSnapshot.Total] {
                try db.fetchAll(
                    sql: "SELECT detail, total FROM event_totals WHERE kind = ? ORDER BY detail", [.text(kind.rawValue)]
                ) { MetricsSnapshot.Total(label: $0.string(0), total: $0.int64(1)) }
            }
            let running = try db.fetchAll(
                sql: """
                    SELECT status, count(*) FROM executions
                    WHERE status IN ('pending', 'started', 'analyzed', 'readyForExecution')
                    GROUP BY status
                    ORDER BY status
                    """
            ) { MetricsSnapshot.Total(label: $0.string(0), total: $0.int64(1)) }
            let lastPass = try StoreStateRecords.value(db, .sweepLastPassAt)
            return MetricsSnapshot(
                sessions: sessions, opened: try totals(EventKind.sessionStarted).reduce(0) { $0 + $1.total },
                ended: try totals(EventKind.sessionEnded), refusals: try totals(EventKind.sessionRefused),
                runningExecutions: running, executionTransitions: try totals(EventKind.executionStatus),
                sweeperLag: lastPass.map { .milliseconds(max(0, now - $0)) },
                sweeperPassDuration: try StoreStateRecords.value(db, .sweepLastPassMs).map(Duration.milliseconds))
        }
    }

    /// Records ``metricsSnapshot()`` as gauges through the configured metrics factory,
    /// so a service exporting swift-metrics (to Prometheus, say) publishes the store's
    /// state; the sweeper calls it after each pass. Gauges:
    /// `sessionstore_sessions{state,data_source}`, `sessionstore_sessions_opened`,
    /// `sessionstore_sessions_ended{state}`, `sessionstore_session_refusals{code}`,
    /// `sessionstore_executions_running{status}`,
    /// `sessionstore_execution_transitions{status}`, `sessionstore_sweeper_lag_seconds`,
    /// `sessionstore_sweeper_pass_seconds`.
    @discardableResult
    public func recordMetricsSnapshot() async throws -> MetricsSnapshot {
        let snapshot = try await metricsSnapshot()
        for count in snapshot.sessions {
            metrics.gauge("sessionstore_sessions", [("state", count.state.rawValue), ("data_source", count.dataSource)])
                .record(count.count)
        }
        metrics.gauge("sessionstore_sessions_opened").record(snapshot.opened)
        for total in snapshot.ended {
            metrics.gauge("sessionstore_sessions_ended", [("state", total.label)]).record(total.total)
        }
        for total in snapshot.refusals {
            metrics.gauge("sessionstore_session_refusals", [("code", total.label)]).record(total.total)
        }
        for total in snapshot.runningExecutions {
            metrics.gauge("sessionstore_executions_running", [("status", total.label)]).record(total.total)
        }
        for total in snapshot.executionTransitions {
            metrics.gauge("sessionstore_execution_transitions", [("status", total.label)]).record(total.total)
        }
        if let lag = snapshot.sweeperLag {
            metrics.gauge("sessionstore_sweeper_lag_seconds").record(Double(lag.wholeMilliseconds) / 1000)
        }
        if let pass = snapshot.sweeperPassDuration {
            metrics.gauge("sessionstore_sweeper_pass_seconds").record(Double(pass.wholeMilliseconds) / 1000)
        }
        return snapshot
    }
}
