import Foundation
import SessionStoreSQLite

/// A process that has the store open, as its `instances` row says.
struct InstanceRow: Sendable {
    let id: Int64
    let host: String
    let pid: Int64
    let startedAt: Int64
    let heartbeatAt: Int64

    /// Whether the process is gone: on this host, no process has its pid; elsewhere, its
    /// heartbeat is older than `timeout`.
    func isDead(now: Int64, timeout: Int64, host currentHost: String) -> Bool {
        if host == currentHost {
            return kill(pid_t(truncatingIfNeeded: pid), 0) != 0 && errno == ESRCH
        }
        return heartbeatAt < now - timeout
    }
}

/// The SQL of `instances`, `store_state` and `subscriptions`.
enum InstanceRecords {
    static var currentHost: String { ProcessInfo.processInfo.hostName }

    static func register(_ db: Database, at time: Int64) throws(SQLiteError) -> Int64 {
        try db.execute(
            sql: "INSERT INTO instances (host, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ?)",
            [.text(currentHost), .integer(Int64(getpid())), .integer(time), .integer(time)])
        return db.lastInsertedRowID
    }

    static func heartbeat(_ db: Database, id: Int64, at time: Int64) throws(SQLiteError) {
        try db.execute(sql: "UPDATE instances SET heartbeat_at = max(heartbeat_at, ?) WHERE id = ?", [.integer(time), .integer(id)])
    }

    /// Removes the row of a cleanly closing instance; its executions keep running
    /// unowned (the foreign key sets their instance to NULL).
    static func unregister(_ db: Database, id: Int64) throws(SQLiteError) {
        try db.execute(sql: "DELETE FROM instances WHERE id = ?", [.integer(id)])
    }

    static func others(_ db: Database, than id: Int64) throws(SQLiteError) -> [InstanceRow] {
        try db.fetchAll(
            sql: "SELECT id, host, pid, started_at, heartbeat_at FROM instances WHERE id <> ? ORDER BY id", [.integer(id)]
        ) {
            InstanceRow(id: $0.int64(0), host: $0.string(1), pid: $0.int64(2), startedAt: $0.int64(3), heartbeatAt: $0.int64(4))
        }
    }

    /// Running executions owned by `instance`.
    static func runningExecutions(_ db: Database, instance: Int64) throws(SQLiteError) -> [ExecutionRow] {
        try db.fetchAll(
            sql: """
                \(ExecutionRecords.select)
                WHERE executions.instance_id = ?
                    AND executions.status IN ('pending', 'started', 'analyzed', 'readyForExecution')
                ORDER BY executions.id
                """, [.integer(instance)], map: ExecutionRecords.row)
    }

    static func closingSessions(_ db: Database) throws(SQLiteError) -> [SessionRow] {
        try db.fetchAll(
            sql: "SELECT \(SessionRecords.columns) FROM sessions WHERE state = 'closing' ORDER BY id", map: SessionRecords.row)
    }

    // MARK: store_state

    static func value(_ db: Database, _ name: String) throws(SQLiteError) -> Int64? {
        try db.fetchInt64(sql: "SELECT value FROM store_state WHERE name = ?", [.text(name)])
    }

    static func setValue(_ db: Database, _ name: String, _ value: Int64) throws(SQLiteError) {
        try db.execute(
            sql: """
                INSERT INTO store_state (name, value) VALUES (?, ?)
                ON CONFLICT (name) DO UPDATE SET value = excluded.value
                """, [.text(name), .integer(value)])
    }

    // MARK: subscriptions

    static func acknowledged(_ db: Database, subscription name: String) throws(SQLiteError) -> Int64 {
        try db.fetchInt64(sql: "SELECT acknowledged_seq FROM subscriptions WHERE name = ?", [.text(name)]) ?? 0
    }

    /// Moves the subscription's acknowledged position forward to `seq` (never back, and
    /// never past the newest event, so no future event is skipped).
    static func acknowledge(_ db: Database, subscription name: String, through seq: Int64, at time: Int64) throws(SQLiteError) {
        try db.execute(
            sql: """
                INSERT INTO subscriptions (name, acknowledged_seq, updated_at)
                VALUES (?, min(?, (SELECT coalesce(max(seq), 0) FROM events)), ?)
                ON CONFLICT (name) DO UPDATE SET
                    acknowledged_seq = max(acknowledged_seq, excluded.acknowledged_seq),
                    updated_at = excluded.updated_at
                """, [.text(name), .integer(seq), .integer(time)])
    }
}
