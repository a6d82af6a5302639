
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
    init() {}
}

extension SessionStore {
    /// The most rows one maintenance transaction handles; the rest wait for the next
    /// batch, so no pass holds the write lock for long.
    static let maintenanceBatch = 256

    /// Runs the execution maintenance passes once: abandonment of executions detached
    /// past ``SessionStoreConfiguration/detachedTimeout`` (Spark Connect's periodic
    /// maintenance), per-execution timeouts, and retention of stopped streaming queries.
    /// Each batch is its own short transaction.
    package func runExecutionMaintenance() async throws -> MaintenanceReport {
        let detachedTimeout = configuration.detachedTimeoutMs
        let queryRetention = configuration.streamingQueryRetentionMs
        // Each step handles at most `limit` rows at `now` and reports what it did.
        let steps: [@Sendable (any StorageTransaction, _ now: Int64, _ limit: Int) throws -> MaintenanceReport] = [
            { db, now, limit in
                var report = MaintenanceReport()
                let due = try db.executions.detachedSince(cutoff: now.subtractingSaturated(detachedTimeout), limit: limit)
                for row in due { try ExecutionTransitions.abandon(db, row, at: now) }
                report.abandonedOperations.append(contentsOf: due.map(\.operationId))
                return report
            },
            { db, now, limit in
                var report = MaintenanceReport()
                let due = try db.executions.pastDeadline(now: now, limit: limit)
                for row in due { try ExecutionTransitions.timeOut(db, row, at: now) }
                report.timedOutOperations.append(contentsOf: due.map(\.operationId))
                return report
            },
            { db, now, limit in
                var report = MaintenanceReport()
                report.prunedQueries = try db.queries.pruneStoppedQueries(before: now.subtractingSaturated(queryRetention), limit: limit)
                return report
            },
        ]
        let batch = Self.maintenanceBatch
        var report = MaintenanceReport()
        for step in steps {
            // A full batch may have left more: run the step again until one is not full.
            while true {
                let done = try await write { db in try step(db, db.now, batch) }
                report.add(done)
                if done.handled < batch { break }
            }
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

extension MaintenanceReport {
    /// The rows a report counts, whatever was done to them.
    var handled: Int { abandonedOperations.count + timedOutOperations.count + prunedQueries }

    /// Adds what `other` did to this report.
    mutating func add(_ other: MaintenanceReport) {
        abandonedOperations.append(other.abandonedOperations)
        timedOutOperations.append(other.timedOutOperations)
        prunedQueries += other.prunedQueries
    }
}
