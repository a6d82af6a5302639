import Foundation
import SessionStoreCore

/// A process that has the store open, as its `instances` row says.
struct InstanceRecords {
    let db: Database

    func register(at time: Int64) throws(SQLiteError) -> Int64 {
        try db.execute(
            sql: "INSERT INTO instances (host, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ?)",
            [.text(InstanceRow.currentHost), .integer(Int64(getpid())), .integer(time), .integer(time)])
        return db.lastInsertedRowID
    }

    func heartbeat(id: Int64, at time: Int64) throws(SQLiteError) {
        try db.execute(sql: "UPDATE instances SET heartbeat_at = max(heartbeat_at, ?) WHERE id = ?", [.integer(time), .integer(id)])
    }

    /// Removes the row of a cleanly closing instance; its executions keep running
    /// unowned (the foreign key sets their instance to NULL).
    func unregister(id: Int64) throws(SQLiteError) {
        try db.execute(sql: "DELETE FROM instances WHERE id = ?", [.integer(id)])
    }

    func others(than id: Int64) throws(SQLiteError) -> [InstanceRow] {
        try db.fetchAll(
            sql: "SELECT id, host, pid, started_at, heartbeat_at, serving FROM instances WHERE id <> ? ORDER BY id",
            [.integer(id)]
        ) {
            InstanceRow(
                id: $0.int64(0), host: $0.string(1), pid: $0.int64(2), startedAt: $0.int64(3), heartbeatAt: $0.int64(4),
                serving: $0.bool(5))
        }
    }

    /// Marks the instance as serving or not; returns whether this changed it.
    func setServing(id: Int64, _ serving: Bool, at time: Int64) throws(SQLiteError) -> Bool {
        try db.execute(
            sql: "UPDATE instances SET serving = ?, heartbeat_at = max(heartbeat_at, ?) WHERE id = ? AND serving <> ?",
            [.integer(serving ? 1 : 0), .integer(time), .integer(id), .integer(serving ? 1 : 0)])
        return db.changesCount == 1
    }

    /// Whether an instance other than `id` is registered as serving.
    func anotherServes(than id: Int64) throws(SQLiteError) -> Bool {
        try db.fetchInt64(sql: "SELECT count(*) FROM instances WHERE serving = 1 AND id <> ?", [.integer(id)]) ?? 0 > 0
    }
}
