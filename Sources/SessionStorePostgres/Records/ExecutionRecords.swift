import Foundation
import SessionStoreCore

/// The SQL of `executions` and `execution_tags`.
struct ExecutionRecords: ExecutionRepository {
    let db: PGConnection

    static let select = """
        SELECT executions.id, executions.session_id, sessions.key, sessions.user_id, sessions.data_source,
            executions.operation_id, executions.job_tag, executions.status, executions.statement,
            executions.reattachable, executions.attached, executions.timeout_ms, executions.created_at,
            executions.started_at, executions.last_attached_at, executions.ended_at, executions.closed_at,
            executions.abandoned_at, executions.error, executions.request
        FROM executions JOIN sessions ON sessions.id = executions.session_id
        """

    /// The statuses of a running execution as an SQL list,
    /// `('pending', 'started', 'analyzed', 'readyForExecution')`. Queries interpolate it
    /// as literal text, not bound values, so their condition matches the predicate of the
    /// partial indexes on running executions and the planner can use them.
    static let runningStatuses =
        "(" + ExecutionStatus.allCases.filter(\.isRunning).map { "'\($0.rawValue)'" }.joined(separator: ", ") + ")"

    static func row(_ row: PGRow) throws -> ExecutionRow {
        try ExecutionRow(
            id: row.int64(0), sessionRowId: row.int64(1), sessionKey: row.string(2), userId: row.string(3),
            dataSource: row.string(4), operationId: row.string(5), jobTag: row.string(6),
            status: ExecutionStatus(stored: row.string(7), table: "executions", column: "status"),
            statement: row.optionalString(8), request: row.optionalData(19),
            reattachable: row.bool(9), attached: row.bool(10), timeoutMs: row.optionalInt64(11),
            createdAt: row.int64(12), startedAt: row.optionalInt64(13), lastAttachedAt: row.int64(14),
            endedAt: row.optionalInt64(15), closedAt: row.optionalInt64(16), abandonedAt: row.optionalInt64(17),
            error: row.optionalString(18))
    }

    /// Inserts the execution row, counts the statement on its session and returns the
    /// new row's id.
    func insert(session: SessionRow, operationId: String, jobTag: String, statement: String?,
        request: Data?, reattachable: Bool, timeoutMs: Int64?, instance: Int64, at time: Int64
    ) throws -> Int64 {
        let id = try db.fetchInt64(
            sql: """
                INSERT INTO executions (
                    session_id, operation_id, job_tag, status, statement, request, reattachable, attached,
                    timeout_ms, created_at, last_attached_at, deadline_at, instance_id
                )
                VALUES (?, ?, ?, 'pending', ?, ?, ?, 1, ?, ?, ?, ?, ?)
                RETURNING id
                """,
            [
                .integer(session.id), .text(operationId), .text(jobTag), PGValue(statement),
                PGValue(request), PGValue(reattachable), PGValue(timeoutMs),
                .integer(time), .integer(time), PGValue(timeoutMs.map { time.addingSaturated($0) }),
                .integer(instance),
            ])
        guard let id else {
            throw PostgresError(sqlState: "XX000", message: "INSERT INTO executions returned no id")
        }
        try db.execute(sql: "UPDATE sessions SET statements = statements + 1 WHERE id = ?", [.integer(session.id)])
        return id
    }

    /// Inserts a new `pending`, attached execution with its tags and returns its row as
    /// written.
    func create(session: SessionRow, operationId: String, jobTag: String, tags: Set<String>, statement: String?,
        request: Data?, reattachable: Bool, timeoutMs: Int64?, instance: Int64, at time: Int64
    ) throws -> ExecutionRow {
        let id = try insert(
            session: session, operationId: operationId, jobTag: jobTag, statement: statement, request: request,
            reattachable: reattachable, timeoutMs: timeoutMs, instance: instance, at: time)
        for tag in tags {
            try insertTag(sessionRowId: session.id, executionRowId: id, tag: tag)
        }
        return ExecutionRow(
            id: id, sessionRowId: session.id, sessionKey: session.key, userId: session.userId,
            dataSource: session.dataSource, operationId: operationId, jobTag: jobTag, status: .pending,
            statement: statement, request: request, reattachable: reattachable, attached: true, timeoutMs: timeoutMs, createdAt: time,
            startedAt: nil, lastAttachedAt: time, endedAt: nil, closedAt: nil, abandonedAt: nil, error: nil)
    }

    func insertTag(sessionRowId: Int64, executionRowId: Int64, tag: String) throws {
        try db.execute(
            sql: """
                INSERT INTO execution_tags (session_id, tag, execution_id) VALUES (?, ?, ?)
                ON CONFLICT DO NOTHING
                """, [.integer(sessionRowId), .text(tag), .integer(executionRowId)])
    }

    func find(sessionRowId: Int64, operationId: String) throws -> ExecutionRow? {
        try db.fetchOne(
            sql: "\(Self.select) WHERE executions.session_id = ? AND executions.operation_id = ?",
            [.integer(sessionRowId), .text(operationId)], map: Self.row)
    }

    /// The execution's tags in byte order.
    func tags(executionRowId: Int64) throws -> [String] {
        try db.fetchAll(
            sql: "SELECT tag FROM execution_tags WHERE execution_id = ? ORDER BY tag COLLATE \"C\"",
            [.integer(executionRowId)]
        ) { $0.string(0) }
    }

    /// Running executions of a session (pending to ready for execution).
    func running(sessionRowId: Int64) throws -> [ExecutionRow] {
        try db.fetchAll(
            sql: """
                \(Self.select)
                WHERE executions.session_id = ?
                    AND executions.status IN \(Self.runningStatuses)
                ORDER BY executions.id
                """, [.integer(sessionRowId)], map: Self.row)
    }

    /// Executions of a session not closed yet, through `executions_unclosed`.
    func unclosedCount(sessionRowId: Int64) throws -> Int64 {
        try db.fetchInt64(
            sql: """
                SELECT count(*) FROM executions
                WHERE session_id = ? AND closed_at IS NULL
                """, [.integer(sessionRowId)]) ?? 0
    }

    func runningCount(sessionRowId: Int64) throws -> Int64 {
        try db.fetchInt64(
            sql: """
                SELECT count(*) FROM executions
                WHERE session_id = ? AND status IN \(Self.runningStatuses)
                """, [.integer(sessionRowId)]) ?? 0
    }

    /// Running executions of a session carrying `tag`.
    func running(sessionRowId: Int64, tag: String) throws -> [ExecutionRow] {
        try db.fetchAll(
            sql: """
                \(Self.select)
                JOIN execution_tags ON execution_tags.execution_id = executions.id
                WHERE execution_tags.session_id = ? AND execution_tags.tag = ?
                    AND executions.status IN \(Self.runningStatuses)
                ORDER BY executions.id
                """, [.integer(sessionRowId), .text(tag)], map: Self.row)
    }

    /// Executions of a session not yet closed, oldest first: what ending the session
    /// closes.
    func unclosed(sessionRowId: Int64) throws -> [ExecutionRow] {
        try db.fetchAll(
            sql: """
                \(Self.select)
                WHERE executions.session_id = ?
                    AND executions.status <> 'closed'
                ORDER BY executions.id
                """, [.integer(sessionRowId)], map: Self.row)
    }

    /// Every execution of a session, oldest first.
    func all(sessionRowId: Int64) throws -> [ExecutionRow] {
        try db.fetchAll(
            sql: "\(Self.select) WHERE executions.session_id = ? ORDER BY executions.id", [.integer(sessionRowId)], map: Self.row)
    }

    /// Running executions across sessions, oldest first (the `executions_running_by_id`
    /// index); only those of `userId`'s sessions when it is given.
    func running(limit: Int, userId: String?) throws -> [ExecutionRow] {
        guard let userId else {
            return try db.fetchAll(
                sql: """
                    \(Self.select)
                    WHERE executions.status IN \(Self.runningStatuses)
                    ORDER BY executions.id
                    LIMIT ?
                    """, [.integer(Int64(limit))], map: Self.row)
        }
        return try db.fetchAll(
            sql: """
                \(Self.select)
                WHERE sessions.user_id = ? AND executions.status IN \(Self.runningStatuses)
                ORDER BY executions.id
                LIMIT ?
                """, [.text(userId), .integer(Int64(limit))], map: Self.row)
    }

    /// Clears the request payload of up to `limit` executions that ended at or before
    /// `cutoff` (the `executions_with_request` index); returns how many.
    func clearRequests(endedBefore cutoff: Int64, limit: Int) throws -> Int {
        try db.execute(
            sql: """
                UPDATE executions SET request = NULL
                WHERE id IN (
                    SELECT id FROM executions
                    WHERE ended_at <= ? AND ended_at IS NOT NULL AND request IS NOT NULL
                    LIMIT ?
                )
                """, [.integer(cutoff), .integer(Int64(limit))])
        return db.changesCount
    }

    /// When the last execution ended; of `userId`'s sessions only when it is given.
    func lastEndedAt(userId: String?) throws -> Int64? {
        guard let userId else { return try db.fetchInt64(sql: "SELECT max(ended_at) FROM executions") }
        return try db.fetchInt64(
            sql: """
                SELECT max(executions.ended_at)
                FROM executions JOIN sessions ON sessions.id = executions.session_id
                WHERE sessions.user_id = ?
                """, [.text(userId)])
    }

    /// Abandoned executions, newest first; of `userId`'s sessions only when it is given.
    func abandoned(limit: Int, userId: String?) throws -> [ExecutionRow] {
        guard let userId else {
            return try db.fetchAll(
                sql: """
                    \(Self.select)
                    WHERE executions.abandoned_at IS NOT NULL
                    ORDER BY executions.abandoned_at DESC
                    LIMIT ?
                    """, [.integer(Int64(limit))], map: Self.row)
        }
        return try db.fetchAll(
            sql: """
                \(Self.select)
                WHERE sessions.user_id = ? AND executions.abandoned_at IS NOT NULL
                ORDER BY executions.abandoned_at DESC
                LIMIT ?
                """, [.text(userId), .integer(Int64(limit))], map: Self.row)
    }

    /// Detached, unclosed executions last attached at or before `cutoff`: due for
    /// abandonment.
    func detachedSince(cutoff: Int64, limit: Int) throws -> [ExecutionRow] {
        try db.fetchAll(
            sql: """
                \(Self.select)
                WHERE executions.attached = 0 AND executions.status <> 'closed'
                    AND executions.last_attached_at <= ?
                ORDER BY executions.last_attached_at
                LIMIT ?
                """, [.integer(cutoff), .integer(Int64(limit))], map: Self.row)
    }

    /// Running executions whose own deadline is at or before `now`.
    func pastDeadline(now: Int64, limit: Int) throws -> [ExecutionRow] {
        try db.fetchAll(
            sql: """
                \(Self.select)
                WHERE executions.status IN \(Self.runningStatuses)
                    AND executions.deadline_at <= ?
                ORDER BY executions.deadline_at
                LIMIT ?
                """, [.integer(now), .integer(Int64(limit))], map: Self.row)
    }

    /// Moves the execution to `status` if it is still in `from` and sets the time columns
    /// the new status implies; returns the columns as written (`UPDATE … RETURNING`), or
    /// `nil` when the execution moved meanwhile.
    func moveStatus(executionRowId: Int64, from: ExecutionStatus, to status: ExecutionStatus, error: String?, at time: Int64
    ) throws -> ExecutionStatusColumns? {
        try db.fetchOne(
            sql: """
                UPDATE executions SET
                    status = ?1::text,
                    started_at = CASE WHEN ?1::text = 'started' THEN ?2::bigint ELSE started_at END,
                    ended_at = CASE WHEN ?1::text IN ('finished', 'failed', 'canceled', 'timedOut') THEN ?2::bigint ELSE ended_at END,
                    closed_at = CASE WHEN ?1::text = 'closed' THEN ?2::bigint ELSE closed_at END,
                    error = coalesce(?3::text, error)
                WHERE id = ?4::bigint AND status = ?5::text
                RETURNING started_at, ended_at, closed_at, error
                """,
            [.text(status.rawValue), .integer(time), PGValue(error), .integer(executionRowId), .text(from.rawValue)]
        ) {
            ExecutionStatusColumns(
                startedAt: $0.optionalInt64(0), endedAt: $0.optionalInt64(1), closedAt: $0.optionalInt64(2),
                error: $0.optionalString(3))
        }
    }

    func setAttached(executionRowId: Int64, attached: Bool, at time: Int64) throws {
        try db.execute(
            sql: "UPDATE executions SET attached = ?, last_attached_at = ? WHERE id = ?",
            [PGValue(attached), .integer(time), .integer(executionRowId)])
    }

    func markAbandoned(executionRowId: Int64, at time: Int64) throws {
        try db.execute(
            sql: """
                UPDATE executions SET
                    status = 'closed',
                    ended_at = coalesce(ended_at, ?1::bigint),
                    closed_at = ?1::bigint,
                    abandoned_at = ?1::bigint,
                    attached = 0
                WHERE id = ?2::bigint
                """, [.integer(time), .integer(executionRowId)])
    }

    func countFailure(sessionRowId: Int64) throws {
        try db.execute(sql: "UPDATE sessions SET failures = failures + 1 WHERE id = ?", [.integer(sessionRowId)])
    }

    /// Whether the session has an attached, running execution: what makes it `active`.
    func hasAttachedRunning(sessionRowId: Int64) throws -> Bool {
        let found = try db.fetchInt64(
            sql: """
                SELECT 1 FROM executions
                WHERE session_id = ? AND status IN \(Self.runningStatuses)
                    AND attached = 1
                LIMIT 1
                """, [.integer(sessionRowId)])
        return found == 1
    }

    func load(_ row: ExecutionRow) throws -> Execution {
        row.execution(tags: try tags(executionRowId: row.id))
    }

}

extension ExecutionRecords {
    /// Running executions owned by `instance`.
    func running(instance: Int64) throws -> [ExecutionRow] {
        try db.fetchAll(
            sql: """
                \(ExecutionRecords.select)
                WHERE executions.instance_id = ?
                    AND executions.status IN \(Self.runningStatuses)
                ORDER BY executions.id
                """, [.integer(instance)], map: ExecutionRecords.row)
    }
}
