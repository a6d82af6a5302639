import Foundation

/// What recovery on open found and did.
public struct RecoveryReport: Sendable, Hashable, Codable {
    /// Instances whose process had died with the store open.
    public var deadInstances = 0
    /// Their running executions that were not reattachable, now `failed`.
    public var failedExecutions = 0
    /// Their running reattachable executions, now detached: a client may reattach
    /// within the detached timeout.
    public var detachedExecutions = 0
    /// Sessions found half-way through ending, now `failed`.
    public var endedSessions = 0
    /// When the last serving process (one running the sweeper) had gone away, crashed or
    /// stopped, and the mode is `rearm`: from this time, live sessions that fell due
    /// after ``servingLastSeen`` get a full timeout before they may expire.
    public var rearmEpoch: Timestamp?
    /// The last time a serving process was known alive (its last heartbeat, or its clean
    /// stop); sessions due before it stay expired. Set with ``rearmEpoch``.
    public var servingLastSeen: Timestamp?
}

/// Finishing the work of instances that died, and re-arming sessions after the last
/// serving process went away: the one place both are decided. Its cost follows the dead
/// instances' unfinished work, never the number of sessions: live sessions are re-armed
/// by recording a ``RearmState`` only. Reads show the re-armed expiry from then on
/// (``Expiry/effectiveExpireAt(stored:isLive:timeoutMs:lastAccessAt:rearm:)``), and the
/// sweeper writes it as it meets each session.
enum Recovery {
    static let reason = "server restarted"

    /// Detaches the attached running executions of `instance`, whose clients are gone.
    static func detachRunning(_ db: any StorageTransaction, instance: Int64, reason: String, at now: Int64) throws {
        for row in try db.executions.running(instance: instance) where row.attached {
            try ExecutionTransitions.detach(db, row, reason: reason, at: now)
        }
    }

    /// Finishes the work of instances whose process is gone, and re-arms sessions when
    /// the last serving process went away, in the caller's transaction. The report is
    /// `nil` when there was nothing to do. `tick` is the one re-armed expiries are
    /// rounded up to.
    static func run(
        _ db: any StorageTransaction, instance: Int64, mode: RecoveryMode, instanceTimeout: Int64, tick: Int64, at now: Int64
    ) throws -> (RecoveryReport, [EndedSession])? {
        let others = try db.instances.others(than: instance)
        let host = InstanceRow.currentHost
        let dead = others.filter { isGone($0, now: now, timeout: instanceTimeout, host: host) }
        let stoppedAt = try db.storeState.value(.servingStoppedAt)
        guard !dead.isEmpty || stoppedAt != nil else { return nil }

        var report = RecoveryReport(deadInstances: dead.count)
        for instanceRow in dead {
            try finishWork(db, of: instanceRow, report: &report, at: now)
        }
        var ended: [EndedSession] = []
        for row in try db.sessions.closing() {
            if let session = try SessionEnding.end(db, row, as: .failed, reason: reason, at: now) {
                ended.append(session)
            }
        }
        report.endedSessions = ended.count
        let deadIds = Set(dead.map(\.id))
        let lastSeen = ([stoppedAt] + dead.filter(\.serving).map(\.heartbeatAt)).compactMap { $0 }.max()
        if let lastSeen, !others.contains(where: { $0.serving && !deadIds.contains($0.id) }) {
            try rearm(db, lastSeen: lastSeen, mode: mode, tick: tick, report: &report, at: now)
        }
        guard !dead.isEmpty || report.rearmEpoch != nil else { return nil }
        try record(db, report, at: now)
        return (report, ended)
    }

    /// The `store.recovered` event of `report`.
    private static func record(_ db: any StorageTransaction, _ report: RecoveryReport, at now: Int64) throws {
        var payload = [
            "deadInstances": "\(report.deadInstances)", "failedExecutions": "\(report.failedExecutions)",
            "detachedExecutions": "\(report.detachedExecutions)", "endedSessions": "\(report.endedSessions)",
        ]
        payload["rearmEpoch"] = report.rearmEpoch?.iso8601
        payload["servingLastSeen"] = report.servingLastSeen?.iso8601
        try db.events.append(at: now, kind: EventKind.storeRecovered, subject: EventSubject(), payload: payload)
    }

    /// Fails or detaches the running executions of a dead instance and removes its row.
    private static func finishWork(_ db: any StorageTransaction, of instanceRow: InstanceRow, report: inout RecoveryReport, at now: Int64) throws {
        for row in try db.executions.running(instance: instanceRow.id) {
            if row.reattachable {
                try ExecutionTransitions.detach(db, row, reason: reason, at: now)
                report.detachedExecutions += 1
            } else {
                _ = try ExecutionTransitions.move(db, row, to: .failed, error: reason, reason: reason, at: now)
                try ExecutionTransitions.refreshActivity(db, sessionRowId: row.sessionRowId)
                report.failedExecutions += 1
            }
        }
        try db.instances.unregister(id: instanceRow.id)
    }

    /// The last serving process was last seen at `lastSeen`: in `rearm` mode, live
    /// sessions due after it get a full timeout from `now`. Consumes a recorded clean stop
    /// in either mode.
    ///
    /// When the previous re-arm was never followed by a completed sweep pass (the serving
    /// process that followed it went away within its first tick), the sessions it re-armed
    /// were not written yet: the new re-arm keeps the earlier `rearm_since`, so they are
    /// re-armed again rather than expiring.
    private static func rearm(
        _ db: any StorageTransaction, lastSeen: Int64, mode: RecoveryMode, tick: Int64, report: inout RecoveryReport, at now: Int64
    ) throws {
        try db.storeState.removeValue(.servingStoppedAt)
        guard mode == .rearm else { return }
        var since: Int64? = lastSeen
        if let previousEpoch = try db.storeState.value(.rearmEpoch),
            try db.storeState.value(.sweepLastPassAt) ?? .min < previousEpoch
        {
            since = try db.storeState.value(.rearmSince).map { min(lastSeen, $0) }
        }
        try db.storeState.setRearm(epoch: now, tick: tick, since: since)
        report.rearmEpoch = Timestamp(milliseconds: now)
        report.servingLastSeen = Timestamp(milliseconds: lastSeen)
    }

    /// The instance starts serving (its sweeper runs). A clean stop of the last serving
    /// process recorded since this process opened the store is re-armed from now.
    static func beginServing(_ db: any StorageTransaction, instance: Int64, mode: RecoveryMode, tick: Int64, at now: Int64) throws {
        guard try db.instances.setServing(id: instance, true, at: now) else { return }
        guard let stoppedAt = try db.storeState.value(.servingStoppedAt) else { return }
        var report = RecoveryReport()
        try rearm(db, lastSeen: stoppedAt, mode: mode, tick: tick, report: &report, at: now)
        if report.rearmEpoch != nil {
            try record(db, report, at: now)
        }
    }

    /// The instance stops serving. When no other instance serves, the time is recorded:
    /// the next open re-arms the sessions due after it, and until then they are suspended.
    static func endServing(_ db: any StorageTransaction, instance: Int64, at now: Int64) throws {
        guard try db.instances.setServing(id: instance, false, at: now) else { return }
        if try !db.instances.anotherServes(than: instance) {
            try db.storeState.setValue(.servingStoppedAt, now)
        }
    }

    /// Whether the process behind `instance` is gone: on this host, no process has its
    /// pid; elsewhere, its heartbeat is older than `timeout`.
    static func isGone(_ instance: InstanceRow, now: Int64, timeout: Int64, host currentHost: String) -> Bool {
        if instance.host == currentHost {
            return kill(pid_t(truncatingIfNeeded: instance.pid), 0) != 0 && errno == ESRCH
        }
        return instance.heartbeatAt < now.subtractingSaturated(timeout)
    }
}
