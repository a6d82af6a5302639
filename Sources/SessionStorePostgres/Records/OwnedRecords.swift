import SessionStoreCore

/// The SQL of `streaming_queries` and `session_resources`.
struct OwnedRecords: StreamingQueryRepository, OwnedResourceRepository {
    let db: PGConnection

    static let querySelect = """
        SELECT streaming_queries.query_id, streaming_queries.run_id, streaming_queries.name, sessions.key,
            streaming_queries.operation_id, streaming_queries.tags, streaming_queries.state,
            streaming_queries.registered_at, streaming_queries.stopped_at, streaming_queries.stop_reason,
            streaming_queries.id
        FROM streaming_queries JOIN sessions ON sessions.id = streaming_queries.session_id
        """

    static func query(_ row: PGRow) throws -> (rowId: Int64, query: StreamingQuery) {
        let tags = JSONText.stringArray(row.string(5))
        return (
            row.int64(10),
            try StreamingQuery(
                queryId: row.string(0), runId: row.string(1), name: row.optionalString(2), sessionKey: row.string(3),
                operationId: row.optionalString(4), tags: tags,
                state: StreamingQuery.State(stored: row.string(6), table: "streaming_queries", column: "state"),
                registeredAt: Timestamp(milliseconds: row.int64(7)), stoppedAt: row.optionalInt64(8).map(Timestamp.init),
                stopReason: row.optionalString(9))
        )
    }

    func insertQuery(sessionRowId: Int64, _ query: StreamingQuery) throws {
        try db.execute(
            sql: """
                INSERT INTO streaming_queries (
                    session_id, query_id, run_id, name, operation_id, tags, state, registered_at
                )
                VALUES (?, ?, ?, ?, ?, ?, 'active', ?)
                """,
            [
                .integer(sessionRowId), .text(query.queryId), .text(query.runId), PGValue(query.name),
                PGValue(query.operationId), .text(JSONText.array(query.tags)),
                .integer(query.registeredAt.milliseconds),
            ])
    }

    func findQuery(sessionRowId: Int64, queryId: String) throws -> (rowId: Int64, query: StreamingQuery)? {
        try db.fetchOne(
            sql: "\(Self.querySelect) WHERE streaming_queries.session_id = ? AND streaming_queries.query_id = ?",
            [.integer(sessionRowId), .text(queryId)], map: Self.query)
    }

    func activeQueries(sessionRowId: Int64) throws -> [(rowId: Int64, query: StreamingQuery)] {
        try db.fetchAll(
            sql: """
                \(Self.querySelect)
                WHERE streaming_queries.session_id = ? AND streaming_queries.state = 'active'
                ORDER BY streaming_queries.id
                """, [.integer(sessionRowId)], map: Self.query)
    }

    func queries(sessionRowId: Int64) throws -> [StreamingQuery] {
        try db.fetchAll(
            sql: "\(Self.querySelect) WHERE streaming_queries.session_id = ? ORDER BY streaming_queries.id",
            [.integer(sessionRowId)], map: Self.query
        ).map(\.query)
    }

    /// The streaming queries the session keeps, active or stopped.
    func queryCount(sessionRowId: Int64) throws -> Int64 {
        try db.fetchInt64(sql: "SELECT count(*) FROM streaming_queries WHERE session_id = ?", [.integer(sessionRowId)]) ?? 0
    }

    func activeQueryCount(sessionRowId: Int64) throws -> Int64 {
        try db.fetchInt64(
            sql: "SELECT count(*) FROM streaming_queries WHERE session_id = ? AND state = 'active'",
            [.integer(sessionRowId)]) ?? 0
    }

    /// Stops an active query; false when it was not active.
    func stopQuery(queryRowId: Int64, reason: String, at time: Int64) throws -> Bool {
        try db.execute(
            sql: """
                UPDATE streaming_queries SET state = 'stopped', stopped_at = ?, stop_reason = ?
                WHERE id = ? AND state = 'active'
                """, [.integer(time), .text(reason), .integer(queryRowId)])
        return db.changesCount == 1
    }

    func deleteQuery(queryRowId: Int64) throws {
        try db.execute(sql: "DELETE FROM streaming_queries WHERE id = ?", [.integer(queryRowId)])
    }

    // MARK: Resources

    func insertResource(sessionRowId: Int64, _ resource: OwnedResource) throws {
        try db.execute(
            sql: """
                INSERT INTO session_resources (session_id, kind, name, bytes, created_at)
                VALUES (?, ?, ?, ?, ?)
                """,
            [
                .integer(sessionRowId), .text(resource.kind), .text(resource.name), .integer(resource.bytes),
                .integer(resource.createdAt.milliseconds),
            ])
    }

    func resources(sessionRowId: Int64, sessionKey: String) throws -> [OwnedResource] {
        try db.fetchAll(
            sql: """
                SELECT kind, name, bytes, created_at FROM session_resources
                WHERE session_id = ?
                ORDER BY id
                """, [.integer(sessionRowId)]
        ) {
            OwnedResource(
                sessionKey: sessionKey, kind: $0.string(0), name: $0.string(1), bytes: $0.int64(2),
                createdAt: Timestamp(milliseconds: $0.int64(3)))
        }
    }

    func resourceCount(sessionRowId: Int64) throws -> Int64 {
        try db.fetchInt64(sql: "SELECT count(*) FROM session_resources WHERE session_id = ?", [.integer(sessionRowId)]) ?? 0
    }

    /// The bytes of the session's resources together, saturating at `Int64.max`: the sum
    /// is exact (`numeric`) and bounded before it becomes a `bigint`.
    func resourceBytes(sessionRowId: Int64) throws -> Int64 {
        try db.fetchInt64(
            sql: """
                SELECT LEAST(coalesce(sum(bytes), 0), 9223372036854775807)::bigint
                FROM session_resources WHERE session_id = ?
                """, [.integer(sessionRowId)]) ?? 0
    }

    /// Deletes one resource by its unique (session, kind, name) and returns it as it was;
    /// `nil` when the session does not own it.
    func deleteResource(sessionRowId: Int64, sessionKey: String, kind: String, name: String) throws -> OwnedResource? {
        try db.fetchOne(
            sql: """
                DELETE FROM session_resources WHERE session_id = ? AND kind = ? AND name = ?
                RETURNING kind, name, bytes, created_at
                """,
            [.integer(sessionRowId), .text(kind), .text(name)]
        ) {
            OwnedResource(
                sessionKey: sessionKey, kind: $0.string(0), name: $0.string(1), bytes: $0.int64(2),
                createdAt: Timestamp(milliseconds: $0.int64(3)))
        }
    }

    func deleteResources(sessionRowId: Int64) throws {
        try db.execute(sql: "DELETE FROM session_resources WHERE session_id = ?", [.integer(sessionRowId)])
    }
}

extension OwnedRecords {
    /// Deletes up to `limit` streaming queries stopped before `cutoff`; returns how many.
    func pruneStoppedQueries(before cutoff: Int64, limit: Int) throws -> Int {
        try db.execute(
            sql: """
                DELETE FROM streaming_queries
                WHERE id IN (
                    SELECT id FROM streaming_queries
                    WHERE state = 'stopped' AND stopped_at <= ?
                    LIMIT ?
                )
                """, [.integer(cutoff), .integer(Int64(limit))])
        return db.changesCount
    }
}
