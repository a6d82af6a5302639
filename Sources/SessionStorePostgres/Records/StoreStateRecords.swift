import SessionStoreCore

/// The SQL of `store_state`: named integers the store keeps about itself.
struct StoreStateRecords: StoreStateRepository {
    let db: PGConnection

    func value(_ key: StoreStateKey) throws -> Int64? {
        try db.fetchInt64(sql: "SELECT value FROM store_state WHERE name = ?", [.text(key.rawValue)])
    }

    func removeValue(_ key: StoreStateKey) throws {
        try db.execute(sql: "DELETE FROM store_state WHERE name = ?", [.text(key.rawValue)])
    }

    func setValue(_ key: StoreStateKey, _ value: Int64) throws {
        try db.execute(
            sql: """
                INSERT INTO store_state (name, value) VALUES (?, ?)
                ON CONFLICT (name) DO UPDATE SET value = excluded.value
                """, [.text(key.rawValue), .integer(value)])
    }
}
