import Foundation
import SessionStoreCore

/// A process that has the store open, as its `instances` row says.
struct InstanceRecords: InstanceRepository {
    let db: PGConnection

    /// Registers this process by host name and pid; returns the new row's id.
    func register(at time: Int64) throws -> Int64 {
        let id = try db.fetchInt64(
            sql: "INSERT INTO instances (host, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ?) RETURNING id",
            [.text(InstanceRow.currentHost), .integer(Int64(getpid())), .integer(time), .integer(time)])
        guard let id else {
            throw PostgresError(sqlState: "XX000", message: "INSERT INTO instances returned no id")
        }
        return id
    }

    func heartbeat(id: Int64, at time: Int64) throws {
        try db.execute(
            sql: "UPDATE instances SET heartbeat_at = GREATEST(heartbeat_at, ?::bigint) WHERE id = ?",
            [.integer(time), .integer(id)])
    }

    /// Removes the row of a cleanly closing instance; its executions keep running
    /// unowned (the foreign key sets their instance to NULL).
    func unregister(id: Int64) throws {
        try db.execute(sql: "DELETE FROM instances WHERE id = ?", [.integer(id)])
    }

    func others(than id: Int64) throws -> [InstanceRow] {
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
    func setServing(id: Int64, _ serving: Bool, at time: Int64) throws -> Bool {
        try db.execute(
            sql: """
                UPDATE instances SET serving = ?1::bigint, heartbeat_at = GREATEST(heartbeat_at, ?2::bigint)
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
