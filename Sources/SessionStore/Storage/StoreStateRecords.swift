import SessionStoreSQLite

/// The SQL of `store_state`: named integers the store keeps about itself.
enum StoreStateRecords {
    /// The names of `store_state` rows; no other name is written.
    enum Key: String {
        /// When a recovery or the storm guard last re-armed live sessions: a live session
        /// not accessed since gets a full timeout from this time before it may expire
        /// (see ``Expiry/effectiveExpireAt(stored:isLive:timeoutMs:lastAccessAt:rearmEpoch:rearmTick:)``).
        case rearmEpoch = "rearm_epoch"
        /// The tick, in milliseconds, of the process that wrote `rearm_epoch`: re-armed
        /// expiries are rounded up to it, whichever process reads or sweeps them. Missing
        /// beside an epoch an earlier version wrote: 1 ms is used.
        case rearmTick = "rearm_tick"
        /// When the last sweep pass ended.
        case sweepLastPassAt = "sweep_last_pass_at"
        /// How long the last sweep pass took, in milliseconds.
        case sweepLastPassMs = "sweep_last_pass_ms"
    }

    static func value(_ db: Database, _ key: Key) throws(SQLiteError) -> Int64? {
        try db.fetchInt64(sql: "SELECT value FROM store_state WHERE name = ?", [.text(key.rawValue)])
    }

    /// Records a re-arm epoch and the tick its expiries are rounded up to, together.
    static func setRearmEpoch(_ db: Database, _ epoch: Int64, tick: Int64) throws(SQLiteError) {
        try setValue(db, .rearmEpoch, epoch)
        try setValue(db, .rearmTick, max(1, tick))
    }

    static func setValue(_ db: Database, _ key: Key, _ value: Int64) throws(SQLiteError) {
        try db.execute(
            sql: """
                INSERT INTO store_state (name, value) VALUES (?, ?)
                ON CONFLICT (name) DO UPDATE SET value = excluded.value
                """, [.text(key.rawValue), .integer(value)])
    }
}
