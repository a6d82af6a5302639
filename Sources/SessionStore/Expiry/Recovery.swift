import Foundation
import SessionStoreSQLite

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
    /// When no instance survived and the mode is `rearm`: from this time live sessions
    /// get a full timeout before they may expire.
    public var rearmEpoch: Timestamp?
}

/// Finishing the work of instances that died: the one place crash recovery is decided.
/// Its cost follows the dead instances' unfinished work, never the number of sessions:
/// live sessions are re-armed by recording `rearm_epoch` and `rearm_tick` only. Reads
/// show the re-armed expiry from then on (``Expiry/effectiveExpireAt(stored:isLive:timeoutMs:lastAccessAt:rearmEpoch:rearmTick:)``), and the
/// sweeper writes it as it meets each session.
enum Recovery {
    static let reason = "server restarted"

    /// Detaches the attached running executions of `instance`, whose clients are gone.
    static func detachRunning(_ db: Database, instance: Int64, reason: String, at now: Int64) throws {
        for row in try ExecutionRecords.running(db, instance: instance) where row.attached {
            try ExecutionTransitions.detach(db, row, reason: reason, at: now)
        }
    }

    /// Finishes the work of instances whose process is gone, in the caller's
    /// transaction. The report is `nil` when nothing was to be recovered. `tick` is the
    /// one re-armed expiries are rounded up to.
    static func run(
        _ db: Database, instance: Int64, mode: RecoveryMode, instanceTimeout: Int64, tick: Int64, at now: Int64
    ) throws -> (RecoveryReport, [EndedSession])? {
        let others = try InstanceRecords.others(db, than: instance)
        let host = InstanceRecords.currentHost
        let dead = others.filter { isGone($0, now: now, timeout: instanceTimeout, host: host) }
        guard !dead.isEmpty else { return nil }

        var report = RecoveryReport(deadInstances: dead.count)
        for instanceRow in dead {
            for row in try ExecutionRecords.running(db, instance: instanceRow.id) {
                if row.reattachable {
                    try ExecutionTransitions.detach(db, row, reason: reason, at: now)
                    report.detachedExecutions += 1
                } else {
                    _ = try ExecutionTransitions.move(db, row, to: .failed, error: reason, reason: reason, at: now)
                    try ExecutionTransitions.refreshActivity(db, sessionRowId: row.sessionRowId)
                    report.failedExecutions += 1
                }
            }
            try InstanceRecords.unregister(db, id: instanceRow.id)
        }
        var ended: [EndedSession] = []
        for row in try SessionRecords.closing(db) {
            if let session = try SessionEnding.end(db, row, as: .failed, reason: reason, at: now) {
                ended.append(session)
            }
        }
        report.endedSessions = ended.count
        if mode == .rearm && dead.count == others.count {
            try StoreStateRecords.setRearmEpoch(db, now, tick: tick)
            report.rearmEpoch = Timestamp(milliseconds: now)
        }
        var payload = [
            "deadInstances": "\(report.deadInstances)", "failedExecutions": "\(report.failedExecutions)",
            "detachedExecutions": "\(report.detachedExecutions)", "endedSessions": "\(report.endedSessions)",
        ]
        payload["rearmEpoch"] = report.rearmEpoch?.iso8601
        try EventLog.append(db, at: now, kind: EventKind.storeRecovered, subject: EventLog.Subject(), payload: payload)
        return (report, ended)
    }

    /// Whether the process behind `instance` is gone: on this host, no process has its
    /// pid; elsewhere, its heartbeat is older than `timeout`.
    static func isGone(_ instance: InstanceRow, now: Int64, timeout: Int64, host currentHost: String) -> Bool {
        if instance.host == currentHost {
            return kill(pid_t(truncatingIfNeeded: instance.pid), 0) != 0 && errno == ESRCH
        }
        return instance.heartbeatAt < now - timeout
    }
}
