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

        package init(state: SessionState, dataSource: String, count: Int64) {
            self.state = state
            self.dataSource = dataSource
            self.count = count
        }
    }

    /// A count for one label.
    public struct Total: Sendable, Hashable, Codable {
        /// The ended state, refusal code or execution status the total is for.
        public var label: String
        /// The count.
        public var total: Int64

        package init(label: String, total: Int64) {
            self.label = label
            self.total = total
        }
    }

    /// Live sessions by state and data source (the Stream API's sessions gauge,
    /// generalised); only those with at least one live session.
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

    /// Writes every field, the sweeper's times in whole milliseconds and as `null` before
    /// the first pass, so readers of the JSON see one shape.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(sessions, forKey: .sessions)
        try container.encode(opened, forKey: .opened)
        try container.encode(ended, forKey: .ended)
        try container.encode(refusals, forKey: .refusals)
        try container.encode(runningExecutions, forKey: .runningExecutions)
        try container.encode(executionTransitions, forKey: .executionTransitions)
        try container.encode(sweeperLag?.wholeMilliseconds, forKey: .sweeperLag)
        try container.encode(sweeperPassDuration?.wholeMilliseconds, forKey: .sweeperPassDuration)
    }
}

extension SessionStore {
    /// Reads the figures of ``MetricsSnapshot``. Cost: a handful of index lookups, plus
    /// one row per running execution status and per overdue session (sessions whose expiry
    /// has passed are not counted live); never a scan of sessions.
    public func metricsSnapshot() async throws -> MetricsSnapshot {
        let configuration = self.configuration
        return try await read { db in
            let now = db.now
            let instant = configuration.expiryInstant(now)
            let lastPass = try db.storeState.value(.sweepLastPassAt)
            return MetricsSnapshot(
                sessions: try Self.liveSessionCounts(db, at: instant),
                opened: try db.events.totals(kind: EventKind.sessionStarted).reduce(0) { $0 + $1.total },
                ended: try db.events.totals(kind: EventKind.sessionEnded),
                refusals: try db.events.totals(kind: EventKind.sessionRefused),
                runningExecutions: try db.executions.runningCounts(),
                executionTransitions: try db.events.totals(kind: EventKind.executionStatus),
                sweeperLag: lastPass.map { .milliseconds(max(0, now - $0)) },
                sweeperPassDuration: try db.storeState.value(.sweepLastPassMs).map(Duration.milliseconds))
        }
    }

    /// The most overdue sessions a snapshot reads to leave them out of the live counts.
    static let overdueReadLimit = 10_000

    /// Live sessions by data source and state at `instant`, ordered by data source then
    /// state; a data source and state without a live session has no entry (the triggers
    /// delete a count that falls to 0). Sessions overdue at `instant` are not counted: they
    /// are expired for every reader. They are read through the expiry index (up to
    /// ``overdueReadLimit``, the earliest), so the cost follows the number overdue, not the
    /// number live.
    static func liveSessionCounts(_ db: any StorageTransaction, at instant: ExpiryInstant) throws -> [MetricsSnapshot.SessionCount] {
        var overdue: [String: Int64] = [:]
        for row in try db.sessions.due(now: instant.now, limit: overdueReadLimit) where row.isOverdue(at: instant) {
            overdue[row.dataSource + "\t" + row.state.rawValue, default: 0] += 1
        }
        return try db.sessions.storedLiveCounts().map { count in
            var count = count
            count.count -= overdue[count.dataSource + "\t" + count.state.rawValue] ?? 0
            return count
        }.filter { $0.count > 0 }
    }

    /// Records ``metricsSnapshot()`` through the configured metrics factory, so a service
    /// exporting swift-metrics (to Prometheus, say) publishes the store's state; the
    /// sweeper calls it after each pass. Gauges `sessionstore_sessions{state,data_source}`,
    /// `sessionstore_executions_running{status}`, `sessionstore_sweeper_lag_seconds` and
    /// `sessionstore_sweeper_pass_seconds`; counters of the file's all-time totals
    /// `sessionstore_file_sessions_opened_total`,
    /// `sessionstore_file_sessions_ended_total{state}`,
    /// `sessionstore_file_session_refusals_total{code}` and
    /// `sessionstore_file_execution_transitions_total{status}`.
    ///
    /// The `file` counters count the changes of every process on the file, so each
    /// process reports the same figures: aggregate them with `max`, not `sum`. A counter
    /// starts at the file's total the first time this store records it, then grows by
    /// what the file's total grew. A gauge series this store recorded before that the
    /// snapshot no longer has (a data source whose last session ended, a status no
    /// execution runs in) is set to 0 and destroyed, so an exporter stops publishing it.
    /// The counters without `file`
    /// (`sessionstore_sessions_opened_total` and the others) count this process's own
    /// changes, as they commit.
    @discardableResult
    public func recordMetricsSnapshot() async throws -> MetricsSnapshot {
        let snapshot = try await metricsSnapshot()
        var gauges: [GaugeSeries] = []
        for family in snapshot.families {
            for sample in family.samples {
                let dimensions = sample.labels.map { ($0.name, $0.value) }
                switch family.type {
                case .gauge:
                    gauges.append(GaugeSeries(label: family.name, dimensions: dimensions, value: sample.value))
                case .counter:
                    metrics.advanceCounter(family.name, dimensions, to: Int64(sample.value))
                }
            }
        }
        metrics.recordGauges(gauges)
        return snapshot
    }
}
