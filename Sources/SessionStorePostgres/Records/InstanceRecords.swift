import Foundation
import SessionStoreCore

/// A process that has the store open, as its `instances` row says.
struct InstanceRecords: InstanceRepository {
    let db: PGConnection

    static let columns = "id, host, pid, started_at, heartbeat_at, serving, serving_since"

    /// Registers a process by host identity and pid; returns the new row's id.
    func register(host: String, pid: Int64, at time: Int64) throws -> Int64 {
        let id = try db.fetchInt64(
            sql: "INSERT INTO instances (host, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ?) RETURNING id",
            [.text(host), .integer(pid), .integer(time), .integer(time)])
        guard let id else {
            throw PostgresError(sqlState: "XX000", message: "INSERT INTO instances returned no id")
        }
        return id
    }

    func heartbeat(id: Int64, at time: Int64) throws -> Bool {
        try db.execute(
            sql: "UPDATE instances SET heartbeat_at = GREATEST(heartbeat_at, ?::bigint) WHERE id = ?",
            [.integer(time), .integer(id)])
        return db.changesCount == 1
    }

    func rejoin(id: Int64, host: String, pid: Int64, at time: Int64) throws {
        try db.execute(
            sql: """
                INSERT INTO instances (id, host, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (id) DO NOTHING
                """,
            [.integer(id), .text(host), .integer(pid), .integer(time), .integer(time)])
    }

    /// Removes the row of a cleanly closing instance; its executions keep running
    /// unowned (the foreign key sets their instance to NULL).
    func unregister(id: Int64) throws {
        try db.execute(sql: "DELETE FROM instances WHERE id = ?", [.integer(id)])
    }

    func all() throws -> [InstanceRow] {
        try db.fetchAll(sql: "SELECT \(Self.columns) FROM instances ORDER BY id") {
            InstanceRow(
                id: $0.int64(0), host: $0.string(1), pid: $0.int64(2), startedAt: $0.int64(3), heartbeatAt: $0.int64(4),
                serving: $0.bool(5), servingSince: $0.optionalInt64(6))
        }
    }

    /// One row lock: a second claimer skips the row while the first holds it, and finds
    /// it gone once the first commits.
    func claim(id: Int64) throws -> Bool {
        try db.fetchInt64(sql: "SELECT id FROM instances WHERE id = ? FOR UPDATE SKIP LOCKED", [.integer(id)]) != nil
    }

    /// Marks the instance as serving or not; returns whether this changed it.
    func setServing(id: Int64, _ serving: Bool, at time: Int64) throws -> Bool {
        try db.execute(
            sql: """
                UPDATE instances SET serving = ?1::bigint, serving_since = CASE WHEN ?1::bigint = 1 THEN ?2::bigint END,
                    heartbeat_at = GREATEST(heartbeat_at, ?2::bigint)
                WHERE id = ?3::bigint AND serving <> ?1::bigint
                """,
            [PGValue(serving), .integer(time), .integer(id)])
        return db.changesCount == 1
    }

    /// Whether an instance other than `id` is registered as serving.
    func anotherServes(than id: Int64) throws -> Bool {
        try db.fetchInt64(sql: "SELECT count(*) FROM instances WHERE serving = 1 AND id <> ?", [.integer(id)]) ?? 0 > 0
    }
}
