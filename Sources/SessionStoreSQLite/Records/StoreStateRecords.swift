import SessionStoreSQLite

/// The SQL of `store_state`: named integers the store keeps about itself.
enum StoreStateRecords {
    /// The names of `store_state` rows; no other name is written.
    enum Key: String {
        /// When live sessions were last re-armed, after the last serving process went
        /// away: a live session not accessed since, due after `rearm_since`, gets a full
        /// timeout from this time before it may expire (see
        /// ``Expiry/effectiveExpireAt(stored:isLive:timeoutMs:lastAccessAt:rearm:)``).
        case rearmEpoch = "rearm_epoch"
        /// The tick, in milliseconds, of the process that wrote `rearm_epoch`: re-armed
        /// expiries are rounded up to it, whichever process reads or sweeps them. Missing
        /// beside an epoch an earlier version wrote: 1 ms is used.
        case rearmTick = "rearm_tick"
        /// The last time a serving process was known alive before the re-arm at
        /// `rearm_epoch`: sessions due before it stay expired. Missing beside an epoch an
        /// earlier version wrote: every session not accessed since the epoch is re-armed.
        case rearmSince = "rearm_since"
        /// When the last serving process stopped cleanly; the next open re-arms from it
        /// and deletes it. Until then sessions due after it are suspended.
        case servingStoppedAt = "serving_stopped_at"
        /// When the last sweep pass ended.
        case sweepLastPassAt = "sweep_last_pass_at"
        /// How long the last sweep pass took, in milliseconds.
        case sweepLastPassMs = "sweep_last_pass_ms"
    }

    static func value(_ db: Database, _ key: Key) throws(SQLiteError) -> Int64? {
        try db.fetchInt64(sql: "SELECT value FROM store_state WHERE name = ?", [.text(key.rawValue)])
    }

    /// Records a re-arm: its epoch, the tick its expiries are rounded up to, and the
    /// time before which due sessions stay expired, together.
    static func setRearm(_ db: Database, epoch: Int64, tick: Int64, since: Int64?) throws(SQLiteError) {
        try setValue(db, .rearmEpoch, epoch)
        try setValue(db, .rearmTick, max(1, tick))
        if let since {
            try setValue(db, .rearmSince, since)
        } else {
            try removeValue(db, .rearmSince)
        }
    }

    static func removeValue(_ db: Database, _ key: Key) throws(SQLiteError) {
        try db.execute(sql: "DELETE FROM store_state WHERE name = ?", [.text(key.rawValue)])
    }

    static func setValue(_ db: Database, _ key: Key, _ value: Int64) throws(SQLiteError) {
        try db.execute(
            sql: """
                INSERT INTO store_state (name, value) VALUES (?, ?)
                ON CONFLICT (name) DO UPDATE SET value = excluded.value
                """, [.text(key.rawValue), .integer(value)])
    }
}
