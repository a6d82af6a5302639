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
    /// The instances found dead and recovered, each named by id, host and pid.
    public var instances: [DeadInstance] = []
}

/// An instance recovery found dead: its process was gone, or silent for
/// ``SessionStoreConfiguration/instanceTimeout`` on the store's clock.
public struct DeadInstance: Sendable, Hashable, Codable {
    /// Its row id in `instances`.
    public var id: Int64
    /// The host identity it registered with (``SessionStoreConfiguration/instanceHost``).
    public var host: String
    /// Its process id on that host.
    public var pid: Int64
    /// Its last heartbeat, on the store's clock.
    public var lastHeartbeat: Timestamp
    /// Whether it was running the sweeper.
    public var serving: Bool
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
    /// no instance served for a while, in the caller's transaction. The report is `nil`
    /// when there was nothing to do. `tick` is the one re-armed expiries are rounded up to.
    ///
    /// Each dead instance is claimed first (``InstanceRepository/claim(id:)``, one row
    /// lock): of several live instances finding it at once, one finishes its work and
    /// removes its row, and the others find nothing left. `host` is this process's host
    /// identity: only an instance of the same host is checked by its pid.
    static func run(
        _ db: any StorageTransaction, instance: Int64, host: String, mode: RecoveryMode, instanceTimeout: Int64, tick: Int64,
        at now: Int64
    ) throws -> (RecoveryReport, [EndedSession])? {
        let rows = try db.instances.all()
        let gone = Self.gone(in: rows, instance: instance, host: host, instanceTimeout: instanceTimeout, at: now)
        var dead: [InstanceRow] = []
        for row in gone where try db.instances.claim(id: row.id) {
            dead.append(row)
        }
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
        let goneIds = Set(gone.map(\.id))
        let lastSeen = ([stoppedAt] + dead.filter(\.serving).map(\.heartbeatAt)).compactMap { $0 }.max()
        // Time no instance served: none still alive was serving when the last one was last seen.
        if let lastSeen,
            !rows.contains(where: { !goneIds.contains($0.id) && $0.serving && ($0.servingSince ?? .min) <= lastSeen })
        {
            try rearm(db, lastSeen: lastSeen, mode: mode, tick: tick, report: &report, at: now)
        }
        guard !dead.isEmpty || report.rearmEpoch != nil else { return nil }
        try record(db, report, by: "\(instance)@\(host)", at: now)
        return (report, ended)
    }

    /// Whether any instance other than `instance` looks gone: the cheap check a serving
    /// process makes every pass before it takes the write lock for ``run(_:instance:host:mode:instanceTimeout:tick:at:)``.
    static func anyGone(_ db: any StorageTransaction, instance: Int64, host: String, instanceTimeout: Int64, at now: Int64) throws -> Bool {
        !gone(in: try db.instances.all(), instance: instance, host: host, instanceTimeout: instanceTimeout, at: now).isEmpty
    }

    /// The rows of `rows` other than `instance`'s whose process is gone (``isGone(_:now:timeout:host:)``).
    private static func gone(in rows: [InstanceRow], instance: Int64, host: String, instanceTimeout: Int64, at now: Int64) -> [InstanceRow] {
        rows.filter { $0.id != instance && isGone($0, now: now, timeout: instanceTimeout, host: host) }
    }

    /// The `store.recovered` event of `report`.
    /// `recoverer` names the instance that recovered, `ID@HOST`.
    private static func record(_ db: any StorageTransaction, _ report: RecoveryReport, by recoverer: String? = nil, at now: Int64) throws {
        var payload = [
            "deadInstances": "\(report.deadInstances)", "failedExecutions": "\(report.failedExecutions)",
            "detachedExecutions": "\(report.detachedExecutions)", "endedSessions": "\(report.endedSessions)",
        ]
        if !report.instances.isEmpty {
            payload["instance"] = report.instances.map { "\($0.id)" }.joined(separator: ",")
            payload["host"] = report.instances.map(\.host).joined(separator: ",")
            payload["pid"] = report.instances.map { "\($0.pid)" }.joined(separator: ",")
        }
        payload["recoveredBy"] = recoverer
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
        report.instances.append(
            DeadInstance(
                id: instanceRow.id, host: instanceRow.host, pid: instanceRow.pid,
                lastHeartbeat: Timestamp(milliseconds: instanceRow.heartbeatAt), serving: instanceRow.serving))
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
        let previousEpoch = try db.storeState.value(.rearmEpoch)
        // Once per outage: when every host restarts, each finds its own dead instance,
        // and only the first re-arms (the others' were last seen before that re-arm).
        if let previousEpoch, previousEpoch > lastSeen { return }
        var since: Int64? = lastSeen
        if let previousEpoch,
            try db.storeState.value(.sweepLastPassAt) ?? .min < previousEpoch
        {
            since = try db.storeState.value(.rearmSince).map { min(lastSeen, $0) }
        }
        try db.storeState.setRearm(epoch: now, tick: tick, since: since)
        report.rearmEpoch = Timestamp(milliseconds: now)
        report.servingLastSeen = Timestamp(milliseconds: lastSeen)
    }

    /// Records that `instance` is alive. When its row is gone (another instance took it
    /// for dead, as happens to a host cut off the network for longer than the instance
    /// timeout, and recovered its work), registers it again under the same id and
    /// returns true: its work from before is finished, and what it does now is owned.
    static func heartbeat(_ db: any StorageTransaction, instance: Int64, host: String, serving: Bool, at now: Int64) throws -> Bool {
        if try db.instances.heartbeat(id: instance, at: now) { return false }
        try db.instances.rejoin(id: instance, host: host, pid: Int64(getpid()), at: now)
        if serving {
            _ = try db.instances.setServing(id: instance, true, at: now)
        }
        return true
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

    /// Whether the process behind `instance` is gone. One that registered with this
    /// process's host identity is gone when no process here has its pid, whatever its
    /// heartbeat; one of another host, when its heartbeat is older than `timeout` on the
    /// store's clock. A slow host whose heartbeats arrive is never taken for dead.
    static func isGone(_ instance: InstanceRow, now: Int64, timeout: Int64, host currentHost: String) -> Bool {
        if instance.host == currentHost {
            return kill(pid_t(truncatingIfNeeded: instance.pid), 0) != 0 && errno == ESRCH
        }
        return instance.heartbeatAt < now.subtractingSaturated(timeout)
    }
}
