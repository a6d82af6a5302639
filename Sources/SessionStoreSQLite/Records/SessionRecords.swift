import SessionStoreCore

/// The SQL of `sessions` and the tables that hang off it. Policy lives in the service.
struct SessionRecords {
    let db: Database

    /// The columns of a ``SessionRow``, in order, then what its effective expiry needs
    /// besides the stored `expire_at`: the ``RearmState`` of `store_state` (uncorrelated
    /// subqueries: SQLite runs each once per statement, a primary-key lookup). ``row(_:)``
    /// applies ``Expiry/effectiveExpireAt(stored:isLive:timeoutMs:lastAccessAt:rearm:)``,
    /// the rule the sweeper applies and the `live_sessions` view computes in SQL.
    static let columns = """
        id, key, user_id, client_session_id, data_source, type, version, identifier, utc_offset_seconds,
        client_address, impersonated_user, state, timeout_ms, created_at, last_access_at, expire_at,
        ended_at, end_reason, config_changes, statements, failures, \(Self.rearmColumns)
        """

    /// `rearm_epoch`, `rearm_tick`, `rearm_since` and `serving_stopped_at`, each `NULL`
    /// when not set.
    static let rearmColumns = [
        StoreStateKey.rearmEpoch, .rearmTick, .rearmSince, .servingStoppedAt,
    ].map { "(SELECT value FROM store_state WHERE name = '\($0.rawValue)')" }.joined(separator: ", ")

    /// The ``RearmState`` read by ``rearmColumns`` starting at column `index`.
    static func rearmState(_ row: Row, at index: Int) -> RearmState {
        RearmState(
            epoch: row.optionalInt64(index), tick: row.optionalInt64(index + 1), since: row.optionalInt64(index + 2),
            servingStoppedAt: row.optionalInt64(index + 3))
    }

    static func row(_ row: Row) throws(SQLiteError) -> SessionRow {
        SessionRow(
            id: row.int64(0), key: row.string(1), userId: row.string(2), clientSessionId: row.optionalString(3),
            dataSource: row.string(4), type: row.string(5), version: row.int64(6), identifier: row.optionalString(7),
            utcOffsetSeconds: row.int64(8), clientAddress: row.optionalString(9), impersonatedUser: row.optionalString(10),
            state: try SessionState(stored: row.string(11), table: "sessions", column: "state"),
            timeoutMs: row.optionalInt64(12), createdAt: row.int64(13), lastAccessAt: row.int64(14),
            storedExpireAt: row.optionalInt64(15), rearm: Self.rearmState(row, at: 21), endedAt: row.optionalInt64(16),
            endReason: row.optionalString(17), configChanges: row.int64(18), statements: row.int64(19),
            failures: row.int64(20))
    }

    /// Inserts a new live (`idle`) session from `request`, with its details and config,
    /// and returns its row as written. The config entries count as its first config
    /// changes.
    func create(key: String, request: OpenSessionRequest, timeoutMs: Int64?, expireAt: Int64?, at time: Int64
    ) throws(SQLiteError) -> SessionRow {
        let inserted = try db.fetchOne(
            sql: """
                INSERT INTO sessions (
                    key, user_id, client_session_id, data_source, type, version, identifier, utc_offset_seconds,
                    client_address, impersonated_user, state, timeout_ms, created_at, last_access_at, expire_at,
                    config_changes
                )
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'idle', ?, ?, ?, ?, ?)
                RETURNING \(Self.columns)
                """,
            [
                .text(key), .text(request.userId), DatabaseValue(request.sessionId), .text(request.dataSource),
                .text(request.type), .integer(request.version), DatabaseValue(request.identifier),
                .integer(request.utcOffsetSeconds), DatabaseValue(request.clientAddress),
                DatabaseValue(request.impersonatedUser), DatabaseValue(timeoutMs), .integer(time), .integer(time),
                DatabaseValue(expireAt), .integer(Int64(request.config.count)),
            ], map: Self.row)
        guard let row = inserted else {
            throw SQLiteError(code: .error, message: "INSERT … RETURNING returned no row for session \(key)")
        }
        for (name, value) in request.details {
            try SessionDetailRecords(db: db).upsertDetail(sessionRowId: row.id, name: name, value: value, at: time)
        }
        for (name, value) in request.config {
            try db.execute(
                sql: "INSERT INTO session_config (session_id, name, value, updated_at) VALUES (?, ?, ?, ?)",
                [.integer(row.id), .text(name), .text(value), .integer(time)])
        }
        return row
    }

    static let findByKeySQL = "SELECT \(columns) FROM sessions WHERE key = ?"

    func find(key: String) throws(SQLiteError) -> SessionRow? {
        try db.fetchOne(sql: Self.findByKeySQL, [.text(key)], map: Self.row)
    }

    /// What a touch needs to decide: the row id, state, timeout, effective expiry and user
    /// of `key`, read without materialising the rest of the row.
    ///
    /// The re-arm state is read only when the stored expiry is before the bucket a touch
    /// at `?2` would move it to, `roundUp(?2 + timeout, ?3)`: otherwise the session is
    /// neither overdue nor moved whatever its effective expiry (never earlier than the
    /// stored one, or none), so the common touch — within its bucket — reads the one row
    /// and no `store_state` row. (An uncorrelated subquery inside `CASE` runs only when
    /// its branch is taken.)
    static let expiryProbeSQL = """
        SELECT id, state, timeout_ms, last_access_at, expire_at, user_id, \(
            [StoreStateKey.rearmEpoch, .rearmTick, .rearmSince, .servingStoppedAt].map { key in
                "CASE WHEN expire_at < (?2 + timeout_ms + ?3 - 1) / ?3 * ?3 "
                    + "THEN (SELECT value FROM store_state WHERE name = '\(key.rawValue)') END"
            }.joined(separator: ", "))
        FROM sessions WHERE key = ?1
        """

    /// The probe of `key` for a touch at `now` with `tick`. Its `expireAt` is the
    /// effective expiry when the stored one is before the bucket `now` moves it to, and
    /// the stored one otherwise (the same decision either way).
    func expiryProbe(key: String, tick: Int64, now: () -> Int64) throws(SQLiteError) -> ExpiryProbe? {
        try db.fetchOne(sql: Self.expiryProbeSQL, [.text(key), .integer(now()), .integer(max(1, tick))]) { row throws(SQLiteError) in
            ExpiryProbe(
                id: row.int64(0), state: try SessionState(stored: row.string(1), table: "sessions", column: "state"),
                timeoutMs: row.optionalInt64(2), lastAccessAt: row.int64(3), storedExpireAt: row.optionalInt64(4),
                rearm: Self.rearmState(row, at: 6), userId: row.string(5))
        }
    }

    /// The stored state of the session with row id `id`: the one column a touch that lost
    /// a race needs. `nil` when the row is gone.
    func state(sessionRowId: Int64) throws(SQLiteError) -> SessionState? {
        try db.fetchOne(sql: "SELECT state FROM sessions WHERE id = ?", [.integer(sessionRowId)]) { row throws(SQLiteError) in
            try SessionState(stored: row.string(0), table: "sessions", column: "state")
        }
    }

    /// The newest session of `userId` with client session id `clientSessionId`, live or ended.
    func newest(userId: String, clientSessionId: String) throws(SQLiteError) -> SessionRow? {
        try db.fetchOne(
            sql: """
                SELECT \(Self.columns) FROM sessions
                WHERE user_id = ? AND client_session_id = ?
                ORDER BY id DESC
                LIMIT 1
                """, [.text(userId), .text(clientSessionId)], map: Self.row)
    }

    /// Moves the expiry forward to `expireAt` (never back) and records the access.
    /// False when the session is not live or already expires at or after `expireAt`.
    func touch(sessionRowId: Int64, now: Int64, expireAt: Int64) throws(SQLiteError) -> Bool {
        try db.execute(
            sql: """
                UPDATE sessions SET last_access_at = ?, expire_at = ?
                WHERE id = ? AND state IN ('idle', 'active') AND expire_at < ?
                """, [.integer(now), .integer(expireAt), .integer(sessionRowId), .integer(expireAt)])
        return db.changesCount == 1
    }

    /// Ends a session that has not ended yet; false when it had (so the caller writes no
    /// second end event).
    func end(sessionRowId: Int64, state: SessionState, at time: Int64, reason: String) throws(SQLiteError) -> Bool {
        try db.execute(
            sql: """
                UPDATE sessions SET state = ?, ended_at = ?, end_reason = ?, expire_at = NULL
                WHERE id = ? AND state IN ('idle', 'active', 'closing')
                """, [.text(state.rawValue), .integer(time), .text(reason), .integer(sessionRowId)])
        return db.changesCount == 1
    }

    /// Sets `idle` or `active` on a live session; no write when it is already so.
    func setActivity(sessionRowId: Int64, active: Bool) throws(SQLiteError) {
        try db.execute(
            sql: """
                UPDATE sessions SET state = ?
                WHERE id = ? AND state IN ('idle', 'active') AND state <> ?
                """, [.text(active ? "active" : "idle"), .integer(sessionRowId), .text(active ? "active" : "idle")])
    }

    func setIdentifier(sessionRowId: Int64, identifier: String?) throws(SQLiteError) {
        try db.execute(sql: "UPDATE sessions SET identifier = ? WHERE id = ?", [DatabaseValue(identifier), .integer(sessionRowId)])
    }

    func liveCount(scope: String, name: String) throws(SQLiteError) -> Int64 {
        try db.fetchInt64(
            sql: "SELECT live FROM live_session_counts WHERE scope = ? AND name = ?", [.text(scope), .text(name)]) ?? 0
    }

    /// The row with its details, config and links: two queries, one for the key-value
    /// pairs and one for the links. Links to sessions `scope` may not act on are left
    /// out, so their keys never reach a caller outside it.
    func load(_ row: SessionRow, scope: AccessScope?) throws(SQLiteError) -> Session {
        var details: [String: String] = [:]
        var config: [String: String] = [:]
        for (isConfig, name, value) in try db.fetchAll(
            sql: """
                SELECT 0, name, value FROM session_details WHERE session_id = ?
                UNION ALL
                SELECT 1, name, value FROM session_config WHERE session_id = ?
                """, [.integer(row.id), .integer(row.id)], map: { ($0.bool(0), $0.string(1), $0.string(2)) })
        {
            if isConfig { config[name] = value } else { details[name] = value }
        }
        var parents: [(id: Int64, key: String)] = []
        var children: [(id: Int64, key: String)] = []
        for (isParent, key, linked, userId) in try db.fetchAll(
            sql: """
                SELECT 0, sessions.key, session_links.child_id, sessions.user_id
                FROM session_links JOIN sessions ON sessions.id = session_links.child_id
                WHERE session_links.parent_id = ?
                UNION ALL
                SELECT 1, sessions.key, session_links.parent_id, sessions.user_id
                FROM session_links JOIN sessions ON sessions.id = session_links.parent_id
                WHERE session_links.child_id = ?
                """, [.integer(row.id), .integer(row.id)], map: { ($0.bool(0), $0.string(1), $0.int64(2), $0.string(3)) })
        where scope.allows(userId) {
            if isParent { parents.append((linked, key)) } else { children.append((linked, key)) }
        }
        return row.session(
            details: details, config: config,
            parents: parents.sorted { $0.id < $1.id }.map(\.key), children: children.sorted { $0.id < $1.id }.map(\.key))
    }

}

extension SessionRecords {
    /// The SQL of the sweeper's selection: live sessions due at `now`, earliest first.
    /// The state condition repeats the partial index's own, so `sessions_by_expiry`
    /// serves it and a pass reads only the rows that are due.
    static let dueSQL = """
        SELECT \(Self.columns) FROM sessions
        WHERE expire_at <= ? AND state IN ('idle', 'active')
        ORDER BY expire_at
        LIMIT ?
        """

    func due(now: Int64, limit: Int) throws(SQLiteError) -> [SessionRow] {
        try db.fetchAll(sql: Self.dueSQL, [.integer(now), .integer(Int64(limit))], map: Self.row)
    }

    /// How many live sessions are due by their stored expiry at `now`: the rows a sweep
    /// starting then examines, counted in `sessions_by_expiry`.
    func dueCount(now: Int64) throws(SQLiteError) -> Int {
        Int(try db.fetchInt64(sql: "SELECT count(*) FROM sessions WHERE state IN ('idle', 'active') AND expire_at <= ?", [.integer(now)]) ?? 0)
    }

    /// Writes a live session's expiry, earlier or later than the stored one.
    func rearm(sessionRowId: Int64, expireAt: Int64) throws(SQLiteError) {
        try db.execute(
            sql: "UPDATE sessions SET expire_at = ? WHERE id = ? AND state IN ('idle', 'active')",
            [.integer(expireAt), .integer(sessionRowId)])
    }

    /// Those of `sessionRowIds` with an execution not closed, an active streaming query or
    /// an owned resource, each found through an index on the session.
    func holding(sessionRowIds: [Int64]) throws(SQLiteError) -> Set<Int64> {
        guard !sessionRowIds.isEmpty else { return [] }
        let ids = "[" + sessionRowIds.map(String.init).joined(separator: ",") + "]"
        return Set(try db.fetchAll(
            sql: """
                SELECT ids.value FROM json_each(?) AS ids
                WHERE EXISTS (SELECT 1 FROM executions WHERE session_id = ids.value AND closed_at IS NULL)
                   OR EXISTS (SELECT 1 FROM streaming_queries WHERE session_id = ids.value AND state = 'active')
                   OR EXISTS (SELECT 1 FROM session_resources WHERE session_id = ids.value)
                """, [.text(ids)]) { $0.int64(0) })
    }

    /// Deletes up to `limit` tombstones that ended at or before `cutoff`, with everything
    /// hanging off them; returns how many.
    func pruneTombstones(endedBefore cutoff: Int64, limit: Int) throws(SQLiteError) -> Int {
        try db.execute(
            sql: """
                DELETE FROM sessions
                WHERE id IN (
                    SELECT id FROM sessions
                    WHERE state IN ('closed', 'expired', 'failed') AND ended_at <= ?
                    LIMIT ?
                )
                """, [.integer(cutoff), .integer(Int64(limit))])
        return db.changesCount
    }
}

extension SessionRecords {
    /// Sessions left in `closing` by a process that died while ending them.
    func closing() throws(SQLiteError) -> [SessionRow] {
        try db.fetchAll(
            sql: "SELECT \(Self.columns) FROM sessions WHERE state = 'closing' ORDER BY id", map: Self.row)
    }
}
