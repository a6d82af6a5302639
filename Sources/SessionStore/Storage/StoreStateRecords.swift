import SessionStoreSQLite

/// The SQL of `store_state`: named integers the store keeps about itself.
enum StoreStateRecords {
    /// The names of `store_state` rows; no other name is written.
    enum Key: String {
        /// When a recovery re-armed live sessions: a session whose expiry is older
        /// than this has not been re-armed yet.
        case rearmEpoch = "rearm_epoch"
        /// When the last sweep pass ended.
        case sweepLastPassAt = "sweep_last_pass_at"
        /// How long the last sweep pass took, in milliseconds.
        case sweepLastPassMs = "sweep_last_pass_ms"
    }

    static func value(_ db: Database, _ key: Key) throws(SQLiteError) -> Int64? {
        try db.fetchInt64(sql: "SELECT value FROM store_state WHERE name = ?", [.text(key.rawValue)])
    }

    static func setValue(_ db: Database, _ key: Key, _ value: Int64) throws(SQLiteError) {
        try db.execute(
            sql: """
                INSERT INTO store_state (name, value) VALUES (?, ?)
                ON CONFLICT (name) DO UPDATE SET value = excluded.value
                """, [.text(key.rawValue), .integer(value)])
    }
}
