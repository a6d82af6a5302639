
/// What ending one session did, for the callers' metrics and callbacks after commit.
struct EndedSession: Sendable {
    /// The session's row as ending wrote it.
    let row: SessionRow
    let state: SessionState
    let canceledOperations: [String]
    let stoppedQueries: [String]
    let releasedResources: [OwnedResource]
}

/// Ends sessions: the one place that decides what ending a session does, whoever ends it
/// (a caller's close, the sweeper's expiry, recovery's failure). Runs inside the caller's
/// transaction, so the session and everything it owns end together or not at all.
enum SessionEnding {
    /// Ends `row` in state `state` (closed, expired or failed): running executions are
    /// canceled, then every execution not yet closed is closed (Spark Connect releases a
    /// session's executions with it: `ExecuteHolder.close` interrupts a running one, then
    /// closes it), active streaming queries stopped, owned resources released, one event
    /// each, then the session's end event. `nil` when it had ended already: nothing is
    /// written twice.
    ///
    /// The work is proportional to what the session holds: its unclosed executions
    /// (the running ones bounded by the concurrent-executions limit), queries and
    /// resources, each found through an index on the session.
    static func end(
        _ db: any StorageTransaction, _ row: SessionRow, as state: SessionState, reason: String, at time: Int64
    ) throws -> EndedSession? {
        guard try db.sessions.end(sessionRowId: row.id, state: state, at: time, reason: reason) else {
            return nil
        }
        let canceled = try ExecutionTransitions.cancel(
            db, db.executions.running(sessionRowId: row.id), reason: "session \(state.rawValue)", interrupted: false,
            at: time)
        try ExecutionTransitions.close(
            db, db.executions.unclosed(sessionRowId: row.id), reason: "session \(state.rawValue)", at: time)
        var stopped: [String] = []
        for (rowId, query) in try db.queries.activeQueries(sessionRowId: row.id)
        where try ExecutionTransitions.stop(
            db, queryRowId: rowId, queryId: query.queryId, of: row, reason: "session \(state.rawValue)", at: time)
        {
            stopped.append(query.queryId)
        }
        let resources = try db.resources.resources(sessionRowId: row.id, sessionKey: row.key)
        try db.resources.deleteResources(sessionRowId: row.id)
        for resource in resources {
            try db.events.append(at: time, kind: EventKind.resourceReleased, subject: row.subject,
                payload: resource.releasePayload(reason: "session \(state.rawValue)"))
        }
        try db.events.append(at: time, kind: EventKind.sessionEnded, subject: row.subject,
            payload: ["state": state.rawValue, "reason": reason])
        return EndedSession(
            row: row.ended(as: state, at: time, reason: reason), state: state, canceledOperations: canceled, stoppedQueries: stopped, releasedResources: resources)
    }
}

extension SessionEnding {
    /// Ends `rows`, sessions found in this transaction to hold no execution, query or
    /// resource (``SessionRepository/holding(sessionRowIds:)``): their rows in one call and
    /// their end events in one, in the order of `rows`. Those ended already are left out.
    static func endHoldingNothing(
        _ db: any StorageTransaction, _ rows: [SessionRow], as state: SessionState, reason: String, at time: Int64
    ) throws -> [EndedSession] {
        guard !rows.isEmpty else { return [] }
        let endedIds = try db.sessions.end(sessionRowIds: rows.map(\.id), state: state, at: time, reason: reason)
        let ended = rows.filter { endedIds.contains($0.id) }
        let payload = JSONText.object(["state": state.rawValue, "reason": reason])
        try db.events.append(
            all: ended.map { NewEvent(at: time, kind: EventKind.sessionEnded, subject: $0.subject, payloadJSON: payload) })
        return ended.map { row in
            EndedSession(
                row: row.ended(as: state, at: time, reason: reason), state: state, canceledOperations: [], stoppedQueries: [],
                releasedResources: [])
        }
    }
}

extension SessionRow {
    /// The row as ending it at `time` leaves it.
    fileprivate func ended(as state: SessionState, at time: Int64, reason: String) -> SessionRow {
        var ended = self
        ended.state = state
        ended.endedAt = time
        ended.endReason = reason
        ended.expireAt = nil
        return ended
    }
}
