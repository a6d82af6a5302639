
/// Status changes of executions: the one place that checks the status machine, writes
/// the event and keeps the session's `idle`/`active` state in step.
enum ExecutionTransitions {
    /// Moves `row` to `status`, or throws `INVALID_TRANSITION` naming both. Returns the
    /// row as the move wrote it.
    static func move(
        _ db: any StorageTransaction, _ row: ExecutionRow, to status: ExecutionStatus, error: String? = nil, reason: String? = nil,
        at time: Int64
    ) throws -> ExecutionRow {
        guard row.status.canMove(to: status),
            let written = try db.executions.moveStatus(executionRowId: row.id, from: row.status, to: status, error: error, at: time)
        else {
            throw SessionStoreError(
                code: SessionStoreError.Code.invalidTransition,
                message: "execution \(row.operationId) cannot move from \(row.status.rawValue) to \(status.rawValue)")
        }
        if status == .failed {
            try db.executions.countFailure(sessionRowId: row.sessionRowId)
        }
        var payload = ["from": row.status.rawValue, "to": status.rawValue]
        payload["error"] = error
        payload["reason"] = reason
        try db.events.append(at: time, kind: EventKind.executionStatus, subject: row.subject, payload: payload)
        var moved = row
        moved.status = status
        moved.startedAt = written.startedAt
        moved.endedAt = written.endedAt
        moved.closedAt = written.closedAt
        moved.error = written.error
        return moved
    }

    /// Abandons `row`, detached past the detached timeout: canceled first while it runs,
    /// then closed and tombstoned, with a status event for each step and an
    /// `execution.abandoned` event; the session's state follows.
    static func abandon(_ db: any StorageTransaction, _ row: ExecutionRow, at time: Int64) throws {
        let current = row.status.isRunning ? try move(db, row, to: .canceled, reason: "abandoned", at: time) : row
        try db.executions.markAbandoned(executionRowId: current.id, at: time)
        try db.events.append(at: time, kind: EventKind.executionStatus, subject: row.subject,
            payload: ["from": current.status.rawValue, "to": ExecutionStatus.closed.rawValue, "reason": "abandoned"])
        try db.events.append(at: time, kind: EventKind.executionAbandoned, subject: row.subject,
            payload: ["lastAttachedAt": Timestamp(milliseconds: row.lastAttachedAt).iso8601])
        try refreshActivity(db, sessionRowId: row.sessionRowId)
    }

    /// Times `row` out (past its own deadline); the session's state follows.
    static func timeOut(_ db: any StorageTransaction, _ row: ExecutionRow, at time: Int64) throws {
        _ = try move(db, row, to: .timedOut, reason: "execution timeout", at: time)
        try refreshActivity(db, sessionRowId: row.sessionRowId)
    }

    /// Cancels running executions (an interrupt, or the end of their session), writing an
    /// `execution.interrupted` event for each when `interrupted`. Returns their ids.
    static func cancel(
        _ db: any StorageTransaction, _ rows: [ExecutionRow], reason: String, interrupted: Bool, at time: Int64
    ) throws -> [String] {
        var canceled: [String] = []
        for row in rows where row.status.isRunning {
            _ = try move(db, row, to: .canceled, reason: reason, at: time)
            if interrupted {
                try db.events.append(at: time, kind: EventKind.executionInterrupted, subject: row.subject, payload: ["reason": reason])
            }
            canceled.append(row.operationId)
        }
        return canceled
    }

    /// Closes the finished executions among `rows` (finished, failed, canceled or timed
    /// out; others are skipped), one status event each: what Spark Connect's
    /// `ExecuteHolder.close` does when their session ends and releases them.
    static func close(_ db: any StorageTransaction, _ rows: [ExecutionRow], reason: String, at time: Int64) throws {
        for row in rows where row.status.isTerminal {
            _ = try move(db, row, to: .closed, reason: reason, at: time)
        }
    }

    /// Detaches `row` because its client is gone (the serving process stopped or died)
    /// and keeps the session's state in step.
    static func detach(_ db: any StorageTransaction, _ row: ExecutionRow, reason: String, at time: Int64) throws {
        try db.executions.setAttached(executionRowId: row.id, attached: false, at: time)
        try db.events.append(at: time, kind: EventKind.executionDetached, subject: row.subject, payload: ["reason": reason])
        try refreshActivity(db, sessionRowId: row.sessionRowId)
    }

    /// Stops an active streaming query and writes its `streaming_query.stopped` event;
    /// false (and nothing written) when it was not active.
    @discardableResult
    static func stop(
        _ db: any StorageTransaction, queryRowId: Int64, queryId: String, of session: SessionRow, reason: String, at time: Int64
    ) throws -> Bool {
        guard try db.queries.stopQuery(queryRowId: queryRowId, reason: reason, at: time) else { return false }
        try db.events.append(at: time, kind: EventKind.queryStopped, subject: session.subject,
            payload: ["queryId": queryId, "reason": reason])
        return true
    }

    /// Sets the session `active` while it has an attached running execution, `idle`
    /// otherwise.
    static func refreshActivity(_ db: any StorageTransaction, sessionRowId: Int64) throws {
        let active = try db.executions.hasAttachedRunning(sessionRowId: sessionRowId)
        try db.sessions.setActivity(sessionRowId: sessionRowId, active: active)
    }
}
