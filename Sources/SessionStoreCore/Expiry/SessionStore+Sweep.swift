import Logging

/// What one sweep did.
public struct SweepReport: Sendable, Hashable, Codable {
    /// The sessions this pass expired: how many, and the keys of the first of them.
    public var expiredSessions = KeySample()
    /// Due sessions given a full timeout instead, by ZooKeeper's rule after the last
    /// serving process went away (their effective expiry is written).
    public var rearmedSessions = 0
    /// Due sessions spared because an attached execution is running in them.
    public var sparedActiveSessions = 0
    /// Rows the expiry selection read: the number due (up to a batch each), never the
    /// number live.
    public var rowsExamined = 0
    /// Tombstones (ended sessions) removed after their retention, each with its details,
    /// config, links, executions and owned records.
    public var prunedSessions = 0
    /// Events removed after their retention.
    public var prunedEvents = 0
    /// Durable subscriptions forgotten, not acknowledged for
    /// ``SessionStoreConfiguration/subscriptionRetention``.
    public var prunedSubscriptions = 0
    /// Executions of live sessions whose request payload was cleared, ended longer than
    /// ``SessionStoreConfiguration/tombstoneRetention`` ago (a pruned tombstone takes its
    /// executions, payloads included, with it).
    public var clearedRequests = 0
    /// The execution maintenance passes.
    public var maintenance = MaintenanceReport()

    /// An empty report: nothing done.
    package init() {}
}

extension SessionStore {
    /// Runs one sweep: expires the sessions due at its start, in batches of
    /// ``SessionStoreConfiguration/sweepBatchSize``, each its own short transaction;
    /// then execution maintenance, retention (tombstones, events, subscriptions not
    /// acknowledged for ``SessionStoreConfiguration/subscriptionRetention``, the request
    /// payloads of executions ended longer than the tombstone retention ago) and a passive
    /// WAL checkpoint. Safe while other processes sweep the same file: each batch selects and
    /// ends its sessions inside one write transaction, so no session ends twice.
    ///
    /// A due session re-armed after the last serving process went away gets its full
    /// timeout from the re-arm epoch instead, once: its
    /// effective expiry, which readers already showed, is written. One with an
    /// attached running execution gets a full timeout from now when
    /// ``SessionStoreConfiguration/runningSessionsDoNotExpire`` is on.
    ///
    /// - Parameter pause: awaited between batches (the sweeper passes its jitter).
    public func sweep(pause: @Sendable () async throws -> Void = {}) async throws -> SweepReport {
        try await sweep(pause: pause, progress: { _ in })
    }

    /// ``sweep(pause:)``, telling `progress` after each batch how many due sessions it
    /// has examined so far (expired, re-armed or spared): out of about
    /// ``dueSessionCount()`` when the pass began.
    package func sweep(pause: @Sendable () async throws -> Void = {}, progress: (Int) -> Void) async throws -> SweepReport {
        let started = ContinuousClock.now
        defer { metrics.operations.sweep.record(since: started) }
        // One instant for the whole pass, the time of its first batch's transaction: a
        // session re-armed or touched during the pass is not met again, however long it
        // takes.
        var now: Int64?
        var report = SweepReport()
        while true {
            let batch = try await expireBatch(now: now)
            now = batch.now
            report.expiredSessions.append(contentsOf: batch.ended.lazy.map(\.row.key))
            report.rearmedSessions += batch.rearmed
            report.sparedActiveSessions += batch.spared
            report.rowsExamined += batch.examined
            batch.ended.forEach(didEnd)
            progress(report.rowsExamined)
            // A full batch that left every session due (a spared session whose expiry
            // saturated at the clock's end) would be selected again forever.
            if batch.examined < configuration.sweepBatchSize || batch.stillDue == batch.examined { break }
            do { try await pause() } catch { break }
        }
        report.maintenance = try await runExecutionMaintenance()
        try await pruneRetained(into: &report)
        try await checkpoint()
        try await recordPass(took: (ContinuousClock.now - started).wholeMilliseconds)
        return report
    }

    /// What a sweeper's pass starts from, in one read: the store's time now (the
    /// database's on PostgreSQL) and when any instance last finished a pass, which the
    /// storm guard compares, and whether another instance looks dead, which the liveness
    /// check then recovers (``recoverDeadInstances()``).
    package func passState() async throws(SessionStoreError) -> (now: Int64, lastPass: Int64?, othersLookGone: Bool) {
        let (instanceId, host, timeout) = (self.instanceId, configuration.hostIdentity, configuration.instanceTimeoutMs)
        return try await read { db in
            let now = db.now
            let gone = try Recovery.anyGone(db, instance: instanceId, host: host, instanceTimeout: timeout, at: now)
            return (now, try db.storeState.value(.sweepLastPassAt), gone)
        }
    }

    /// How many live sessions are due now by their stored expiry: what a sweep starting
    /// now examines.
    package func dueSessionCount() async throws -> Int {
        try await read { db in try db.sessions.dueCount(now: db.now) }
    }

    /// Records when the last pass ended and how long it took, for the sweeper gauges, and
    /// this process's heartbeat: a serving process that dies is last seen at its last pass.
    /// Written after every pass, an idle one too: `sessionstore_sweeper_lag_seconds` is the
    /// time since this write, read by any process, so a pass that skipped it would look
    /// like a sweeper falling behind.
    private func recordPass(took milliseconds: Int64) async throws(SessionStoreError) {
        let (instanceId, host, serving) = (self.instanceId, configuration.hostIdentity, isServing.mutex.withLock { $0 })
        let rejoined = try await write { db in
            let now = db.now
            try db.storeState.setValue(.sweepLastPassAt, now)
            try db.storeState.setValue(.sweepLastPassMs, milliseconds)
            return try Recovery.heartbeat(db, instance: instanceId, host: host, serving: serving, at: now)
        }
        if rejoined { logRejoin() }
    }

    private struct ExpiryBatch: Sendable {
        /// The instant the batch expired sessions at.
        var now: Int64
        var ended: [EndedSession] = []
        var rearmed = 0
        var spared = 0
        var examined = 0
        /// Sessions examined that are due still: the next batch would select them again.
        var stillDue = 0
    }

    /// Expires one batch of the sessions due at `now`, or at the time of its own
    /// transaction when `now` is `nil` (the first batch of a pass).
    private func expireBatch(now passNow: Int64?) async throws(SessionStoreError) -> ExpiryBatch {
        let expiry = configuration.expiry
        let batchSize = configuration.sweepBatchSize
        let spareActive = configuration.runningSessionsDoNotExpire
        return try await write { db in
            let now = passNow ?? db.now
            var batch = ExpiryBatch(now: now)
            let due = try db.sessions.due(now: now, limit: batchSize)
            batch.examined = due.count
            // One statement finds the sessions with something to settle; the others end
            // together below, in one update and one append where the backend can.
            let holding = try db.sessions.holding(sessionRowIds: due.map(\.id))
            var plain: [SessionRow] = []
            for row in due {
                guard let timeout = row.timeoutMs, let effective = row.expireAt else {
                    batch.stillDue += 1
                    continue
                }
                // Due by its stored expiry, not by its effective one: not accessed since
                // the re-arm epoch, whose full timeout has not run out. Written once.
                if effective > now {
                    try db.sessions.rearm(sessionRowId: row.id, expireAt: effective)
                    batch.rearmed += 1
                    continue
                }
                if spareActive, row.state == .active {
                    let next = expiry.expireAt(now: now, timeoutMs: timeout)
                    try db.sessions.rearm(sessionRowId: row.id, expireAt: next)
                    batch.spared += 1
                    if next <= now { batch.stillDue += 1 }
                    continue
                }
                guard holding.contains(row.id) else {
                    plain.append(row)
                    continue
                }
                if let ended = try SessionEnding.end(db, row, as: .expired, reason: "expired", at: now) {
                    batch.ended.append(ended)
                } else {
                    batch.stillDue += 1
                }
            }
            let ended = try SessionEnding.endHoldingNothing(db, plain, as: .expired, reason: "expired", at: now)
            batch.ended += ended
            batch.stillDue += plain.count - ended.count
            return batch
        }
    }

    /// The sweeper found its previous pass `behindMs` ago, far beyond its interval (a
    /// suspended process, a jump of the wall clock): records a `sweeper.storm_guard`
    /// event and a warning. Sessions that fell due meanwhile are expired, as every reader
    /// already showed them; the sweeper ends them in batches.
    package func recordSweeperLag(behindMs: Int64, lastPass: Int64?) async throws(SessionStoreError) {
        let tick = configuration.tickMs
        let recorded = try await write { db in
            let now = db.now
            // Once per gap, whichever instance sees it first: a pass by another instance
            // since `lastPass` was read means that one has recorded it, or kept up.
            guard try db.storeState.value(.sweepLastPassAt) == lastPass else { return false }
            try db.storeState.setValue(.sweepLastPassAt, now)
            try db.events.append(at: now, kind: EventKind.stormGuard, subject: EventSubject(),
                payload: [
                    "behindMs": "\(behindMs)", "behindTicks": "\(behindMs / max(1, tick))",
                    "reason": "the sweeper fell behind; overdue sessions expire in batches",
                ])
            return true
        }
        guard recorded else { return }
        logger.warning(
            "sweeper fell behind; expiring the overdue sessions in batches",
            metadata: ["sweeper.behind_ms": "\(behindMs)"])
    }

    private func pruneRetained(into report: inout SweepReport) async throws(SessionStoreError) {
        let tombstoneRetention = configuration.tombstoneRetentionMs
        let eventRetention = configuration.eventRetentionMs
        let subscriptionRetention = configuration.subscriptionRetentionMs
        report.prunedSessions = try await drain { db, now, limit in
            try db.sessions.pruneTombstones(endedBefore: now.subtractingSaturated(tombstoneRetention), limit: limit)
        }
        report.prunedEvents = try await drain { db, now, limit in
            try db.events.prune(before: now.subtractingSaturated(eventRetention), limit: limit)
        }
        report.prunedSubscriptions = try await drain { db, now, limit in
            try db.subscriptions.prune(acknowledgedBefore: now.subtractingSaturated(subscriptionRetention), limit: limit)
        }
        report.clearedRequests = try await drain { db, now, limit in
            try db.executions.clearRequests(endedBefore: now.subtractingSaturated(tombstoneRetention), limit: limit)
        }
    }

    /// Runs `step` in write transactions of at most ``maintenanceBatch`` rows until one
    /// handles fewer; returns the rows handled.
    private func drain(
        _ step: @escaping @Sendable (any StorageTransaction, _ now: Int64, _ limit: Int) throws -> Int
    ) async throws(SessionStoreError) -> Int {
        let batch = Self.maintenanceBatch
        var total = 0
        while true {
            let done = try await write { db in try step(db, db.now, batch) }
            total += done
            if done < batch { return total }
        }
    }

    /// A passive checkpoint: copies what it can from the WAL into the database without
    /// waiting for readers, so the WAL does not grow without bound, whatever the
    /// durability and whichever process wrote it.
    private func checkpoint() async throws(SessionStoreError) {
        try await checkpointStorage(truncating: false)
    }

    /// Copies what the backend's log holds into the store; with `truncating`, waits for
    /// readers and empties the log (see ``StorageBackend/checkpoint(truncating:)``).
    package func checkpointStorage(truncating: Bool) async throws(SessionStoreError) {
        do {
            try await backend.checkpoint(truncating: truncating)
        } catch {
            throw SessionStoreError.wrap(error)
        }
    }
}
