import SessionStoreSQLite

/// What one maintenance pass did.
public struct MaintenanceReport: Sendable, Hashable, Codable {
    /// Executions abandoned (detached longer than the detached timeout): how many, and the
    /// operation ids of the first of them.
    public var abandonedOperations = KeySample()
    /// Executions past their own timeout, now `timedOut`: how many, and the operation ids
    /// of the first of them.
    public var timedOutOperations = KeySample()
    /// Stopped streaming queries removed after their retention.
    public var prunedQueries = 0

    /// An empty report: nothing done.
    public init() {}
}

extension SessionStore {
    /// The most rows one maintenance transaction handles; the rest wait for the next
    /// batch, so no pass holds the write lock for long.
    static let maintenanceBatch = 256

    /// Runs the execution maintenance passes once: abandonment of executions detached
    /// past ``SessionStoreConfiguration/detachedTimeout`` (Spark Connect's periodic
    /// maintenance), per-execution timeouts, and retention of stopped streaming queries.
    /// Each batch is its own short transaction.
    public func runExecutionMaintenance() async throws(SessionStoreError) -> MaintenanceReport {
        var report = MaintenanceReport()
        let clock = self.clock
        let detachedTimeout = configuration.detachedTimeout
        let queryRetention = configuration.streamingQueryRetention
        let batch = Self.maintenanceBatch

        while true {
            let abandoned = try await write { db -> [String] in
                let now = clock.now()
                let due = try ExecutionRecords.detachedSince(db, cutoff: now - detachedTimeout, limit: batch)
                for row in due {
                    let current = row.status.isRunning
                        ? try ExecutionTransitions.move(db, row, to: .canceled, reason: "abandoned", at: now) : row
                    try ExecutionRecords.markAbandoned(db, id: current.id, at: now)
                    try EventLog.append(
                        db, at: now, kind: EventKind.executionStatus, subject: row.subject,
                        payload: ["from": current.status.rawValue, "to": ExecutionStatus.closed.rawValue, "reason": "abandoned"])
                    try EventLog.append(
                        db, at: now, kind: EventKind.executionAbandoned, subject: row.subject,
                        payload: ["lastAttachedAt": Timestamp(milliseconds: row.lastAttachedAt).iso8601])
                    try ExecutionTransitions.refreshActivity(db, sessionId: row.sessionId)
                }
                return due.map(\.operationId)
            }
            report.abandonedOperations.append(contentsOf: abandoned)
            if abandoned.count < batch { break }
        }

        while true {
            let timedOut = try await write { db -> [String] in
                let now = clock.now()
                let due = try ExecutionRecords.pastDeadline(db, now: now, limit: batch)
                for row in due {
                    _ = try ExecutionTransitions.move(db, row, to: .timedOut, reason: "execution timeout", at: now)
                    try ExecutionTransitions.refreshActivity(db, sessionId: row.sessionId)
                }
                return due.map(\.operationId)
            }
            report.timedOutOperations.append(contentsOf: timedOut)
            if timedOut.count < batch { break }
        }

        while true {
            let pruned = try await write { db -> Int in
                try OwnedRecords.pruneStoppedQueries(db, before: clock.now() - queryRetention, limit: batch)
            }
            report.prunedQueries += pruned
            if pruned < batch { break }
        }

        if !report.abandonedOperations.isEmpty || !report.timedOutOperations.isEmpty {
            logger.debug(
                "execution maintenance",
                metadata: [
                    "executions.abandoned": "\(report.abandonedOperations.count)",
                    "executions.timed_out": "\(report.timedOutOperations.count)",
                ])
        }
        return report
    }
}
