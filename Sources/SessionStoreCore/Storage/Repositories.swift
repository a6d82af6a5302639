import Foundation

// The repositories of a ``StorageTransaction``, one per table or group of tables. Every
// method runs in the transaction it was reached through; times are milliseconds since
// the Unix epoch; `…RowId` parameters are the backend's row ids as returned in rows.
// Conditional writes return whether they changed a row (see the isolation contract of
// ``StorageBackend``).

/// `sessions`, with `session_details` and `session_config` as a new session writes them.
package protocol SessionRepository {
    /// Inserts a live (`idle`) session from `request` with its details and config, and
    /// returns its row as written.
    func create(key: String, request: OpenSessionRequest, timeoutMs: Int64?, expireAt: Int64?, at time: Int64) throws -> SessionRow
    /// The session with `key`.
    func find(key: String) throws -> SessionRow?
    /// What a touch at the transaction's time needs of `key`; see ``ExpiryProbe``. `now`
    /// gives that time; a backend that reads it from the database with the probe's own
    /// round trip decides with the database's clock instead, read in the statement (never
    /// earlier), and leaves `now` for the caller to read after.
    func expiryProbe(key: String, tick: Int64, now: () -> Int64) throws -> ExpiryProbe?
    /// The stored state of a session, `nil` when its row is gone.
    func state(sessionRowId: Int64) throws -> SessionState?
    /// The newest session of `userId` with the client's id `clientSessionId`, live or ended.
    func newest(userId: String, clientSessionId: String) throws -> SessionRow?
    /// Moves a live session's stored expiry forward to `expireAt` and records the access;
    /// false when it is not live or already expires at or after `expireAt`.
    func touch(sessionRowId: Int64, now: Int64, expireAt: Int64) throws -> Bool
    /// Ends a session not ended yet (stored expiry cleared); false when it had ended.
    func end(sessionRowId: Int64, state: SessionState, at time: Int64, reason: String) throws -> Bool
    /// Ends those of `sessionRowIds` not ended yet, each as the call above; the ids it
    /// ended. A default ends them one by one.
    func end(sessionRowIds: [Int64], state: SessionState, at time: Int64, reason: String) throws -> Set<Int64>
    /// Sets `idle` or `active` on a live session.
    func setActivity(sessionRowId: Int64, active: Bool) throws
    func setIdentifier(sessionRowId: Int64, identifier: String?) throws
    /// The row with its details, config, and the links to sessions `scope` may act on.
    func load(_ row: SessionRow, scope: AccessScope?) throws -> Session
    /// Up to `limit` live sessions whose stored expiry is at or before `now`, earliest first.
    func due(now: Int64, limit: Int) throws -> [SessionRow]
    /// How many live sessions have a stored expiry at or before `now`.
    func dueCount(now: Int64) throws -> Int
    /// ``due(now:limit:)`` of the sessions matching every `scope` column.
    func mayBeOverdue(scope: [ScopeColumn], now: Int64, limit: Int) throws -> [SessionRow]
    /// Writes a live session's stored expiry, earlier or later than the stored one.
    func rearm(sessionRowId: Int64, expireAt: Int64) throws
    /// Sessions left in `closing`.
    func closing() throws -> [SessionRow]
    /// Those of `sessionRowIds` that hold what ending a session settles: an execution not
    /// closed, an active streaming query, an owned resource. One statement for a sweep
    /// batch, so that ending a session that holds nothing is its update and its event.
    func holding(sessionRowIds: [Int64]) throws -> Set<Int64>
    /// Deletes up to `limit` ended sessions that ended at or before `cutoff`, with all
    /// that hangs off them; returns how many.
    func pruneTombstones(endedBefore cutoff: Int64, limit: Int) throws -> Int
    /// The live sessions counted under `scope` and `name` (`live_session_counts`).
    func liveCount(scope: String, name: String) throws -> Int64
    /// Live sessions by data source and state, as stored (overdue ones included).
    func storedLiveCounts() throws -> [MetricsSnapshot.SessionCount]
}

/// `session_details` and `session_config`.
package protocol SessionDetailRepository {
    func upsertDetail(sessionRowId: Int64, name: String, value: String, at time: Int64) throws
    /// False when the session had no such detail.
    func removeDetail(sessionRowId: Int64, name: String) throws -> Bool
    func detailCount(sessionRowId: Int64) throws -> Int64
    func configCount(sessionRowId: Int64) throws -> Int64
    func configValue(sessionRowId: Int64, name: String) throws -> String?
    /// Sets a config entry and counts one config change of the session.
    func upsertConfig(sessionRowId: Int64, name: String, value: String, at time: Int64) throws
}

/// `session_links`.
package protocol SessionLinkRepository {
    /// False when the link existed.
    func link(parentRowId: Int64, childRowId: Int64, at time: Int64) throws -> Bool
    func exists(parentRowId: Int64, childRowId: Int64) throws -> Bool
    /// Links in which the session is the parent or the child.
    func linkCount(sessionRowId: Int64) throws -> Int64
    /// Whether `target` is `start` or below it.
    func isDescendant(_ target: Int64, of start: Int64) throws -> Bool
    func childKeys(sessionRowId: Int64) throws -> [String]
    func parentKeys(sessionRowId: Int64) throws -> [String]
}

/// Listing and counting sessions by filter. The backend selects stored rows (a superset
/// where the effective expiry decides); the service layer decides which are listed.
package protocol SessionListRepository {
    /// Up to `limit` stored rows that may match `filter` at `now`, in the filter's order,
    /// after `after` (a position this method returned): every row that matches, and
    /// possibly live rows whose stored expiry has passed.
    func page(_ filter: SessionFilter, after: SessionListPosition?, now: Int64, limit: Int) throws -> [SessionListPosition]
    /// The rows matching `filter` at `now` counted in storage, and the live rows whose
    /// stored expiry has passed, left to the service layer to decide.
    func count(_ filter: SessionFilter, now: Int64) throws -> SessionListCount
    /// The stored expiry of a session: where a listing by expiry resumes after it.
    func storedExpiry(rowId: Int64) throws -> Int64?
}

/// `executions` and `execution_tags`.
package protocol ExecutionRepository {
    func create(
        session: SessionRow, operationId: String, jobTag: String, tags: Set<String>, statement: String?, request: Data?,
        reattachable: Bool, timeoutMs: Int64?, instance: Int64, at time: Int64
    ) throws -> ExecutionRow
    func find(sessionRowId: Int64, operationId: String) throws -> ExecutionRow?
    func tags(executionRowId: Int64) throws -> [String]
    func load(_ row: ExecutionRow) throws -> Execution
    func all(sessionRowId: Int64) throws -> [ExecutionRow]
    func running(sessionRowId: Int64) throws -> [ExecutionRow]
    func running(sessionRowId: Int64, tag: String) throws -> [ExecutionRow]
    /// Running executions of every session (of `userId` when given), up to `limit`.
    func running(limit: Int, userId: String?) throws -> [ExecutionRow]
    /// Running executions owned by the instance `instance`.
    func running(instance: Int64) throws -> [ExecutionRow]
    func runningCount(sessionRowId: Int64) throws -> Int64
    func unclosed(sessionRowId: Int64) throws -> [ExecutionRow]
    func unclosedCount(sessionRowId: Int64) throws -> Int64
    func abandoned(limit: Int, userId: String?) throws -> [ExecutionRow]
    func lastEndedAt(userId: String?) throws -> Int64?
    /// Detached running executions last attached at or before `cutoff`.
    func detachedSince(cutoff: Int64, limit: Int) throws -> [ExecutionRow]
    /// Running executions whose timeout has passed at `now`.
    func pastDeadline(now: Int64, limit: Int) throws -> [ExecutionRow]
    /// Moves an execution still in `from` to `status`; the columns as written, or `nil`
    /// when it moved meanwhile.
    func moveStatus(
        executionRowId: Int64, from: ExecutionStatus, to status: ExecutionStatus, error: String?, at time: Int64
    ) throws -> ExecutionStatusColumns?
    func setAttached(executionRowId: Int64, attached: Bool, at time: Int64) throws
    func markAbandoned(executionRowId: Int64, at time: Int64) throws
    func countFailure(sessionRowId: Int64) throws
    func hasAttachedRunning(sessionRowId: Int64) throws -> Bool
    /// Drops the request bytes of executions that ended at or before `cutoff`.
    func clearRequests(endedBefore cutoff: Int64, limit: Int) throws -> Int
    /// Running executions by status.
    func runningCounts() throws -> [MetricsSnapshot.Total]
}

/// `streaming_queries`.
package protocol StreamingQueryRepository {
    func insertQuery(sessionRowId: Int64, _ query: StreamingQuery) throws
    func findQuery(sessionRowId: Int64, queryId: String) throws -> (rowId: Int64, query: StreamingQuery)?
    func activeQueries(sessionRowId: Int64) throws -> [(rowId: Int64, query: StreamingQuery)]
    func queries(sessionRowId: Int64) throws -> [StreamingQuery]
    func queryCount(sessionRowId: Int64) throws -> Int64
    func activeQueryCount(sessionRowId: Int64) throws -> Int64
    func stopQuery(queryRowId: Int64, reason: String, at time: Int64) throws -> Bool
    func deleteQuery(queryRowId: Int64) throws
    func pruneStoppedQueries(before cutoff: Int64, limit: Int) throws -> Int
}

/// `session_resources`.
package protocol OwnedResourceRepository {
    func insertResource(sessionRowId: Int64, _ resource: OwnedResource) throws
    func resources(sessionRowId: Int64, sessionKey: String) throws -> [OwnedResource]
    func resourceCount(sessionRowId: Int64) throws -> Int64
    /// The bytes of the session's resources together, saturating at `Int64.max`.
    func resourceBytes(sessionRowId: Int64) throws -> Int64
    func deleteResource(sessionRowId: Int64, sessionKey: String, kind: String, name: String) throws -> OwnedResource?
    func deleteResources(sessionRowId: Int64) throws
}

/// `events` and the totals kept from them.
package protocol EventRepository {
    /// Appends an event whose payload was encoded beforehand.
    func append(at time: Int64, kind: EventKind, subject: EventSubject, payloadJSON: String) throws
    /// Appends `events` in order, each as the call above. A default appends them one by one.
    func append(all events: [NewEvent]) throws
    /// Up to `limit` events after `seq` matching `filter` (and `userId`), oldest first
    /// or, with `newestFirst`, the newest `limit` newest first.
    func read(after seq: Int64, limit: Int, filter: EventFilter, userId: String?, newestFirst: Bool) throws -> [StoreEvent]
    /// A page for followers; see the event contract of ``StorageBackend``.
    func page(after seq: Int64, kinds: Set<EventKind>?, userId: String?, limit: Int) throws -> EventPage
    /// How many events after `seq` and before `before` match `filter`.
    func count(after seq: Int64, before: Int64, filter: EventFilter) throws -> Int
    /// The sequence number of the newest event; 0 on an empty log.
    func lastSequence() throws -> Int64
    /// The sequence number of the newest event of `userId`; 0 when none.
    func lastSequence(userId: String) throws -> Int64
    /// Deletes up to `limit` events written at or before `cutoff`; returns how many.
    func prune(before cutoff: Int64, limit: Int) throws -> Int
    /// The totals of events of `kind` by detail (`event_totals`).
    func totals(kind: EventKind) throws -> [MetricsSnapshot.Total]
}

extension SessionRepository {
    /// Ends the sessions of `sessionRowIds` not ended yet, each as
    /// ``end(sessionRowId:state:at:reason:)`` does, and returns the ids it ended. A backend
    /// may do it in one statement; this default ends them one by one.
    package func end(sessionRowIds: [Int64], state: SessionState, at time: Int64, reason: String) throws -> Set<Int64> {
        var ended: Set<Int64> = []
        for id in sessionRowIds where try end(sessionRowId: id, state: state, at: time, reason: reason) {
            ended.insert(id)
        }
        return ended
    }
}

extension EventRepository {
    /// Appends `events` in order, each as ``append(at:kind:subject:payloadJSON:)`` does. A
    /// backend may do it in one statement; this default appends them one by one.
    package func append(all events: [NewEvent]) throws {
        for event in events {
            try append(at: event.at, kind: event.kind, subject: event.subject, payloadJSON: event.payloadJSON)
        }
    }

    /// Appends an event with `payload` encoded as a JSON object.
    func append(at time: Int64, kind: EventKind, subject: EventSubject, payload: [String: String] = [:]) throws {
        try append(at: time, kind: kind, subject: subject, payloadJSON: JSONText.object(payload))
    }
}

/// `subscriptions`: durable consumers' positions.
package protocol SubscriptionRepository {
    func acknowledged(subscription name: String) throws -> Int64
    func acknowledge(subscription name: String, through seq: Int64, at time: Int64) throws
    func prune(acknowledgedBefore cutoff: Int64, limit: Int) throws -> Int
}

/// `instances`: the processes that have the store open.
package protocol InstanceRepository {
    /// Registers a process by host identity and pid and returns its instance id.
    func register(host: String, pid: Int64, at time: Int64) throws -> Int64
    /// Records that the instance is alive at `time` (never moving back); false when its
    /// row is gone: another instance took it for dead and recovered its work.
    func heartbeat(id: Int64, at time: Int64) throws -> Bool
    /// Registers again, under its old id, an instance whose row another one removed.
    func rejoin(id: Int64, host: String, pid: Int64, at time: Int64) throws
    func unregister(id: Int64) throws
    /// Every registered instance, oldest first.
    func all() throws -> [InstanceRow]
    /// Locks the row of instance `id` for this transaction, skipping a row another
    /// transaction holds; false when it is gone or held: another instance is recovering it.
    func claim(id: Int64) throws -> Bool
    /// Sets the serving flag and when serving began; false when it already had that value.
    func setServing(id: Int64, _ serving: Bool, at time: Int64) throws -> Bool
    func anotherServes(than id: Int64) throws -> Bool
}

/// `store_state`: the store's own named values.
package protocol StoreStateRepository {
    func value(_ key: StoreStateKey) throws -> Int64?
    func setValue(_ key: StoreStateKey, _ value: Int64) throws
    func removeValue(_ key: StoreStateKey) throws
}

extension StoreStateRepository {
    /// Records a re-arm: its epoch, tick and the stop it follows (`since`).
    func setRearm(epoch: Int64, tick: Int64, since: Int64?) throws {
        try setValue(.rearmEpoch, epoch)
        try setValue(.rearmTick, max(1, tick))
        if let since {
            try setValue(.rearmSince, since)
        } else {
            try removeValue(.rearmSince)
        }
    }
}
