import Foundation
import SessionStoreCore

/// A process that has the store open, as its `instances` row says. The writer's lock is
/// held by every write transaction, so a claim needs no row lock on SQLite.
struct InstanceRecords {
    let db: Database

    static let columns = "id, host, pid, started_at, heartbeat_at, serving, serving_since"

    func register(host: String, pid: Int64, at time: Int64) throws(SQLiteError) -> Int64 {
        try db.execute(
            sql: "INSERT INTO instances (host, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ?)",
            [.text(host), .integer(pid), .integer(time), .integer(time)])
        return db.lastInsertedRowID
    }

    func heartbeat(id: Int64, at time: Int64) throws(SQLiteError) -> Bool {
        try db.execute(sql: "UPDATE instances SET heartbeat_at = max(heartbeat_at, ?) WHERE id = ?", [.integer(time), .integer(id)])
        return db.changesCount == 1
    }

    func rejoin(id: Int64, host: String, pid: Int64, at time: Int64) throws(SQLiteError) {
        try db.execute(
            sql: "INSERT OR IGNORE INTO instances (id, host, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)",
            [.integer(id), .text(host), .integer(pid), .integer(time), .integer(time)])
    }

    /// Removes the row of a cleanly closing instance; its executions keep running
    /// unowned (the foreign key sets their instance to NULL).
    func unregister(id: Int64) throws(SQLiteError) {
        try db.execute(sql: "DELETE FROM instances WHERE id = ?", [.integer(id)])
    }

    func all() throws(SQLiteError) -> [InstanceRow] {
        try db.fetchAll(sql: "SELECT \(Self.columns) FROM instances ORDER BY id") {
            InstanceRow(
                id: $0.int64(0), host: $0.string(1), pid: $0.int64(2), startedAt: $0.int64(3), heartbeatAt: $0.int64(4),
                serving: $0.bool(5), servingSince: $0.optionalInt64(6))
        }
    }

    func claim(id: Int64) throws(SQLiteError) -> Bool {
        try db.fetchInt64(sql: "SELECT count(*) FROM instances WHERE id = ?", [.integer(id)]) ?? 0 == 1
    }

    /// Marks the instance as serving or not; returns whether this changed it.
    func setServing(id: Int64, _ serving: Bool, at time: Int64) throws(SQLiteError) -> Bool {
        try db.execute(
            sql: """
                UPDATE instances SET serving = ?1, serving_since = CASE WHEN ?1 = 1 THEN ?2 END,
                    heartbeat_at = max(heartbeat_at, ?2)
                WHERE id = ?3 AND serving <> ?1
                """,
            [.integer(serving ? 1 : 0), .integer(time), .integer(id)])
        return db.changesCount == 1
    }

    /// Whether an instance other than `id` is registered as serving.
    func anotherServes(than id: Int64) throws(SQLiteError) -> Bool {
        try db.fetchInt64(sql: "SELECT count(*) FROM instances WHERE serving = 1 AND id <> ?", [.integer(id)]) ?? 0 > 0
    }
}
