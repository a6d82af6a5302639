import SessionStoreSQLite

/// Ends sessions: the one place that decides what ending a session does, whoever ends it
/// (a caller's close, the sweeper's expiry, recovery's failure). Runs inside the caller's
/// transaction, so the session and everything it owns end together or not at all.
enum SessionEnding {
    /// Ends `row` in state `state` (closed, expired or failed) and writes the end event.
    /// False when it had ended already: nothing is written twice.
    static func end(
        _ db: Database, _ row: SessionRow, as state: SessionState, reason: String, at time: Int64
    ) throws(SQLiteError) -> Bool {
        guard try SessionRecords.end(db, id: row.id, state: state, at: time, reason: reason) else {
            return false
        }
        try EventLog.append(
            db, at: time, kind: EventKind.sessionEnded, subject: row.subject,
            payload: ["state": state.rawValue, "reason": reason])
        return true
    }
}
