import SessionStoreCore

/// The SQL of `session_details` and `session_config`: two key-value namespaces of a session.
struct SessionDetailRecords: SessionDetailRepository {
    let db: PGConnection

    func upsertDetail(sessionRowId: Int64, name: String, value: String, at time: Int64) throws {
        try db.execute(
            sql: """
                INSERT INTO session_details (session_id, name, value, updated_at)
                VALUES (?, ?, ?, ?)
                ON CONFLICT (session_id, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
                """, [.integer(sessionRowId), .text(name), .text(value), .integer(time)])
    }

    func removeDetail(sessionRowId: Int64, name: String) throws -> Bool {
        try db.execute(sql: "DELETE FROM session_details WHERE session_id = ? AND name = ?", [.integer(sessionRowId), .text(name)])
        return db.changesCount == 1
    }

    func detailCount(sessionRowId: Int64) throws -> Int64 {
        try db.fetchInt64(sql: "SELECT count(*) FROM session_details WHERE session_id = ?", [.integer(sessionRowId)]) ?? 0
    }

    func configCount(sessionRowId: Int64) throws -> Int64 {
        try db.fetchInt64(sql: "SELECT count(*) FROM session_config WHERE session_id = ?", [.integer(sessionRowId)]) ?? 0
    }

    func configValue(sessionRowId: Int64, name: String) throws -> String? {
        try db.fetchOne(
            sql: "SELECT value FROM session_config WHERE session_id = ? AND name = ?", [.integer(sessionRowId), .text(name)]
        ) { $0.string(0) }
    }

    /// Sets a config entry and counts one config change of the session.
    func upsertConfig(sessionRowId: Int64, name: String, value: String, at time: Int64) throws {
        try db.execute(
            sql: """
                INSERT INTO session_config (session_id, name, value, updated_at)
                VALUES (?, ?, ?, ?)
                ON CONFLICT (session_id, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
                """, [.integer(sessionRowId), .text(name), .text(value), .integer(time)])
        try db.execute(sql: "UPDATE sessions SET config_changes = config_changes + 1 WHERE id = ?", [.integer(sessionRowId)])
    }
}
