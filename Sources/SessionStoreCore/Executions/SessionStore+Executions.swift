import Foundation

/// Executions by session key, and lists of every user's executions: unchecked calls for
/// trusted code in the process. A caller that is not trusted is served through
/// ``SessionStore/acting(as:)``, whose ``ScopedSessionStore`` makes the same calls for
/// one principal.
extension SessionStore {
    /// Creates an execution in a live session, `pending` and attached.
    ///
    /// ```swift
    /// let execution = try await store.createExecution(key: session.key, tags: ["etl"], statement: "SELECT 1")
    /// try await store.setExecutionStatus(key: session.key, operationId: execution.operationId, to: .started)
    /// ```
    ///
    /// Counts as an access to the session, which becomes `active`.
    ///
    /// - Parameters:
    ///   - key: the session's key.
    ///   - operationId: the client's UUID, or `nil` to generate one.
    ///   - tags: labels that ``interrupt(key:tag:)`` selects by.
    ///   - statement: what the execution runs, for people and logs.
    ///   - request: the client's request, stored as it is.
    ///   - reattachable: whether a client may attach again after detaching.
    ///   - timeout: the execution's own timeout (Hive's query timeout); past it the
    ///     maintenance pass marks it `timedOut`.
    /// - Throws: `INVALID_HANDLE.FORMAT` (operation id not a UUID),
    ///   `INVALID_HANDLE.OPERATION_ALREADY_EXISTS`, `INVALID_HANDLE.OPERATION_ABANDONED`,
    ///   `INVALID_HANDLE.SESSION_CLOSED`, `INVALID_HANDLE.SESSION_NOT_FOUND`,
    ///   `LIMIT_EXCEEDED.EXECUTIONS_PER_SESSION`, `LIMIT_EXCEEDED.TAGS_PER_EXECUTION`,
    ///   `LIMIT_EXCEEDED.UNCLOSED_EXECUTIONS_PER_SESSION` (nothing written for any),
    ///   `INVALID_ARGUMENT.*`.
    @discardableResult
    public func createExecution(
        key: String, operationId: String? = nil, tags: [String] = [], statement: String? = nil,
        request: Data? = nil, reattachable: Bool = false, timeout: Duration? = nil
    ) async throws -> Execution {
        try await createExecution(
            key: key, operationId: operationId, tags: tags, statement: statement, request: request,
            reattachable: reattachable, timeout: timeout, scope: nil)
    }

    @discardableResult
    func createExecution(
        key: String, operationId: String? = nil, tags: [String] = [], statement: String? = nil,
        request: Data? = nil, reattachable: Bool = false, timeout: Duration? = nil
    , scope: AccessScope?) async throws -> Execution {
        let validator = configuration.validator
        let key = try validator.key(key)
        let operationId = try operationId.map { (id) throws in try validator.operationId(id) } ?? SessionKey.make()
        let tags = try validator.tags(tags)
        if let statement {
            try validator.payload(statement.utf8.count, field: .invalidStatement)
            try validator.text(statement, field: .invalidStatement)
        }
        if let request { try validator.payload(request.count, field: .invalidRequest) }
        let timeoutMs = timeout?.wholeMilliseconds
        if let timeoutMs, timeoutMs <= 0 {
            throw SessionStoreError.invalidArgument(.invalidTimeout, "an execution timeout must be positive (got \(timeoutMs) ms)")
        }
        let maxRunning = configuration.limits.maxConcurrentExecutionsPerSession
        let maxUnclosed = configuration.limits.maxUnclosedExecutionsPerSession
        let instanceId = self.instanceId
        let execution = try await mutate(key: key, scope: scope) { db, session, now in
            if let existing = try db.executions.find(sessionRowId: session.id, operationId: operationId) {
                throw existing.abandonedAt != nil
                    ? SessionStoreError(
                        code: SessionStoreError.Code.operationAbandoned,
                        message: "operation \(operationId) was abandoned and cannot be used again")
                    : SessionStoreError(
                        code: SessionStoreError.Code.operationAlreadyExists,
                        message: "operation \(operationId) already exists in session \(key)")
            }
            try Limits.enforcePerSession(maxRunning, code: .executionsPerSession, key: key, what: "running executions") {
                try db.executions.runningCount(sessionRowId: session.id)
            }
            try Limits.enforcePerSession(maxUnclosed, code: .unclosedExecutionsPerSession, key: key, what: "unclosed executions") {
                try db.executions.unclosedCount(sessionRowId: session.id)
            }
            // The session's row id, not its key: a job tag travels to engine logs and UIs,
            // and the key is the proof of ownership.
            let jobTag = "SessionStore_User_\(session.userId)_Session_\(session.id)_Operation_\(operationId)"
            let row = try db.executions.create(session: session, operationId: operationId, jobTag: jobTag, tags: Set(tags), statement: statement,
                request: request, reattachable: reattachable, timeoutMs: timeoutMs, instance: instanceId, at: now)
            try db.events.append(at: now, kind: EventKind.executionCreated, subject: row.subject,
                payload: ["tags": tags.sorted().joined(separator: ","), "reattachable": "\(reattachable)"])
            try ExecutionTransitions.refreshActivity(db, sessionRowId: session.id)
            return row.execution(tags: Set(tags).sorted())
        }
        executionMetrics.created()
        return execution
    }

    /// The execution `operationId` of session `key`, or `nil`.
    public func execution(key: String, operationId: String) async throws -> Execution? {
        try await execution(key: key, operationId: operationId, scope: nil)
    }

    func execution(key: String, operationId: String, scope: AccessScope?) async throws -> Execution? {
        let key = try configuration.validator.key(key)
        let operationId = try configuration.validator.operationId(operationId)
        return try await read { db in
            let session = try Access.row(db, key: key, scope: scope)
            return try db.executions.find(sessionRowId: session.id, operationId: operationId).map {
                try db.executions.load($0)
            }
        }
    }

    /// Every execution of session `key`, oldest first, whatever its status.
    public func listExecutions(key: String) async throws -> [Execution] {
        try await listExecutions(key: key, scope: nil)
    }

    func listExecutions(key: String, scope: AccessScope?) async throws -> [Execution] {
        let key = try configuration.validator.key(key)
        return try await read { db in
            let session = try Access.row(db, key: key, scope: scope)
            return try db.executions.all(sessionRowId: session.id).map { try db.executions.load($0) }
        }
    }

    /// Moves an execution along its status machine (see ``ExecutionStatus``); `error`
    /// is recorded with `failed`. A closed session's executions can no longer change.
    ///
    /// - Throws: `INVALID_TRANSITION` naming from and to, changing nothing;
    ///   `INVALID_HANDLE.OPERATION_ABANDONED` after abandonment;
    ///   `INVALID_HANDLE.OPERATION_NOT_FOUND`.
    @discardableResult
    public func setExecutionStatus(
        key: String, operationId: String, to status: ExecutionStatus, error: String? = nil
    ) async throws -> Execution {
        try await setExecutionStatus(key: key, operationId: operationId, to: status, error: error, scope: nil)
    }

    @discardableResult
    func setExecutionStatus(
        key: String, operationId: String, to status: ExecutionStatus, error: String? = nil
    , scope: AccessScope?) async throws -> Execution {
        let key = try configuration.validator.key(key)
        let operationId = try configuration.validator.operationId(operationId)
        if let error { try configuration.validator.value(error, field: .invalidError) }
        let execution = try await mutate(key: key, scope: scope) { db, session, now in
            let row = try Self.executionRow(db, session: session, operationId: operationId)
            let moved = try ExecutionTransitions.move(db, row, to: status, error: status == .failed ? error : nil, at: now)
            try ExecutionTransitions.refreshActivity(db, sessionRowId: session.id)
            return try db.executions.load(moved)
        }
        executionMetrics.moved(execution)
        return execution
    }

    /// Attaches a client to an execution's results again (Spark Connect's reattach).
    /// Counts as an access to the session.
    ///
    /// - Throws: `INVALID_HANDLE.OPERATION_ABANDONED` after abandonment;
    ///   `INVALID_HANDLE.OPERATION_NOT_REATTACHABLE` for a detached execution that was
    ///   not created reattachable; `INVALID_TRANSITION` for a closed one.
    @discardableResult
    public func attachExecution(key: String, operationId: String) async throws -> Execution {
        try await setAttached(true, key: key, operationId: operationId, scope: nil)
    }

    /// Detaches the client from an execution; past the detached timeout it is abandoned.
    ///
    /// - Throws: `INVALID_HANDLE.OPERATION_ABANDONED` after abandonment;
    ///   `INVALID_TRANSITION` for a closed one.
    @discardableResult
    public func detachExecution(key: String, operationId: String) async throws -> Execution {
        try await setAttached(false, key: key, operationId: operationId, scope: nil)
    }

    /// ``attachExecution(key:operationId:)`` (`attached`) or ``detachExecution(key:operationId:)``
    /// in `scope`.
    func setAttached(
        _ attached: Bool, key: String, operationId: String, scope: AccessScope?
    ) async throws(SessionStoreError) -> Execution {
        let key = try configuration.validator.key(key)
        let operationId = try configuration.validator.operationId(operationId)
        return try await mutate(key: key, scope: scope) { db, session, now in
            let row = try Self.executionRow(db, session: session, operationId: operationId)
            guard row.status != .closed else {
                throw SessionStoreError(
                    code: SessionStoreError.Code.invalidTransition,
                    message: "execution \(operationId) is closed and cannot be \(attached ? "attached" : "detached")")
            }
            if attached && !row.attached && !row.reattachable {
                throw SessionStoreError(
                    code: SessionStoreError.Code.operationNotReattachable,
                    message: "execution \(operationId) was not created reattachable")
            }
            try db.executions.setAttached(executionRowId: row.id, attached: attached, at: now)
            try db.events.append(at: now, kind: attached ? EventKind.executionAttached : EventKind.executionDetached, subject: row.subject)
            try ExecutionTransitions.refreshActivity(db, sessionRowId: session.id)
            var written = row
            written.attached = attached
            written.lastAttachedAt = now
            return try db.executions.load(written)
        }
    }

    /// Cancels one running execution. Returns its id, or nothing when it had already
    /// finished (terminal executions are not touched); it stops no streaming query.
    ///
    /// - Throws: `INVALID_HANDLE.OPERATION_ABANDONED` after abandonment;
    ///   `INVALID_HANDLE.OPERATION_NOT_FOUND`.
    public func interrupt(key: String, operationId: String) async throws -> Interruption {
        try await interrupt(key: key, operationId: operationId, scope: nil)
    }

    func interrupt(key: String, operationId: String, scope: AccessScope?) async throws -> Interruption {
        let operationId = try configuration.validator.operationId(operationId)
        return try await interrupt(key: key, scope: scope, reason: "interrupted by operation id", stopsQueriesTagged: nil) {
            db, session in
            [try Self.executionRow(db, session: session, operationId: operationId)]
        }
    }

    /// Cancels the running executions carrying `tag`, and stops the session's streaming
    /// queries with that tag. Returns the canceled operation ids and the stopped query ids.
    public func interrupt(key: String, tag: String) async throws -> Interruption {
        try await interrupt(key: key, tag: tag, scope: nil)
    }

    func interrupt(key: String, tag: String, scope: AccessScope?) async throws -> Interruption {
        let tag = try configuration.validator.id(tag, field: .invalidTag)
        return try await interrupt(key: key, scope: scope, reason: "interrupted by tag \(tag)", stopsQueriesTagged: .some(tag)) {
            db, session in
            try db.executions.running(sessionRowId: session.id, tag: tag)
        }
    }

    /// Cancels every running execution of the session and stops all its streaming
    /// queries. Returns the canceled operation ids and the stopped query ids.
    public func interruptAll(key: String) async throws -> Interruption {
        try await interruptAll(key: key, scope: nil)
    }

    func interruptAll(key: String, scope: AccessScope?) async throws -> Interruption {
        try await interrupt(key: key, scope: scope, reason: "interrupted: all", stopsQueriesTagged: .some(nil)) { db, session in
            try db.executions.running(sessionRowId: session.id)
        }
    }

    /// - Parameter stopsQueriesTagged: `nil` stops no query, `.some(nil)` all, `.some(tag)`
    ///   those carrying the tag.
    private func interrupt(
        key: String, scope: AccessScope?, reason: String, stopsQueriesTagged: String??,
        select: @escaping @Sendable (any StorageTransaction, SessionRow) throws -> [ExecutionRow]
    ) async throws(SessionStoreError) -> Interruption {
        let key = try configuration.validator.key(key)
        return try await mutate(key: key, scope: scope) { db, session, now in
            let canceled = try ExecutionTransitions.cancel(db, select(db, session), reason: reason, interrupted: true, at: now)
            var stopped: [String] = []
            if let tag = stopsQueriesTagged {
                for (rowId, query) in try db.queries.activeQueries(sessionRowId: session.id)
                where tag.map(query.tags.contains) ?? true {
                    if try ExecutionTransitions.stop(db, queryRowId: rowId, queryId: query.queryId, of: session, reason: reason, at: now) {
                        stopped.append(query.queryId)
                    }
                }
            }
            try ExecutionTransitions.refreshActivity(db, sessionRowId: session.id)
            return Interruption(operationIds: canceled, queryIds: stopped)
        }
    }

    /// Releases an execution, as Spark Connect's `ReleaseExecute(ReleaseAll)` does: a
    /// running one is interrupted (canceled, with an `execution.interrupted` event), then
    /// closed; a closed one is answered as it is. One transaction: no other call sees it
    /// canceled and not yet closed. Counts as an access to the session.
    ///
    /// ```swift
    /// let released = try await store.releaseExecution(key: session.key, operationId: "op-1")
    /// assert(released.status == .closed)
    /// ```
    ///
    /// - Throws: `INVALID_HANDLE.OPERATION_ABANDONED` after abandonment;
    ///   `INVALID_HANDLE.OPERATION_NOT_FOUND`.
    @discardableResult
    public func releaseExecution(key: String, operationId: String) async throws -> Execution {
        try await releaseExecution(key: key, operationId: operationId, scope: nil)
    }

    func releaseExecution(key: String, operationId: String, scope: AccessScope?) async throws -> Execution {
        let key = try configuration.validator.key(key)
        let operationId = try configuration.validator.operationId(operationId)
        let (execution, moved) = try await mutate(key: key, scope: scope) { db, session, now -> (Execution, Bool) in
            var row = try Self.executionRow(db, session: session, operationId: operationId)
            guard row.status != .closed else { return (try db.executions.load(row), false) }
            if row.status.isRunning {
                _ = try ExecutionTransitions.cancel(db, [row], reason: "released by client", interrupted: true, at: now)
                row.status = .canceled
            }
            let closed = try ExecutionTransitions.move(db, row, to: .closed, reason: "released by client", at: now)
            try ExecutionTransitions.refreshActivity(db, sessionRowId: session.id)
            return (try db.executions.load(closed), true)
        }
        if moved { executionMetrics.moved(execution) }
        return execution
    }

    /// The running executions across all sessions, oldest first, up to `limit`; or — when
    /// none runs — the time the last execution ended (Spark Connect's
    /// `listActiveExecutions`).
    ///
    /// - Throws: `INVALID_ARGUMENT.LIMIT` for a limit outside 1...10,000.
    public func listActiveExecutions(limit: Int = 10_000) async throws -> ActiveExecutions {
        try await listActiveExecutions(limit: limit, userId: nil)
    }

    /// ``listActiveExecutions(limit:)`` of the sessions of `userId` (every user when `nil`).
    func listActiveExecutions(limit: Int, userId: String?) async throws -> ActiveExecutions {
        try configuration.validator.listLimit(limit)
        return try await read { db in
            let running = try db.executions.running(limit: limit, userId: userId)
            if running.isEmpty {
                return .idleSince(try db.executions.lastEndedAt(userId: userId).map(Timestamp.init))
            }
            return .running(try running.map { try db.executions.load($0) })
        }
    }

    /// The abandoned executions still kept as tombstones, newest first, up to `limit`.
    ///
    /// - Throws: `INVALID_ARGUMENT.LIMIT` for a limit outside 1...10,000.
    public func listAbandonedExecutions(limit: Int = 10_000) async throws -> [Execution] {
        try await listAbandonedExecutions(limit: limit, userId: nil)
    }

    /// ``listAbandonedExecutions(limit:)`` of the sessions of `userId` (every user when `nil`).
    func listAbandonedExecutions(limit: Int, userId: String?) async throws -> [Execution] {
        try configuration.validator.listLimit(limit)
        return try await read { db in
            try db.executions.abandoned(limit: limit, userId: userId).map { try db.executions.load($0) }
        }
    }

    /// The execution a call names by id: `INVALID_HANDLE.OPERATION_NOT_FOUND` when there
    /// is none, `INVALID_HANDLE.OPERATION_ABANDONED` when it was abandoned (whatever the
    /// call would have done with it).
    static func executionRow(_ db: any StorageTransaction, session: SessionRow, operationId: String) throws -> ExecutionRow {
        guard let row = try db.executions.find(sessionRowId: session.id, operationId: operationId) else {
            throw SessionStoreError(
                code: SessionStoreError.Code.operationNotFound,
                message: "no operation \(operationId) in session \(session.key)")
        }
        guard row.abandonedAt == nil else {
            throw SessionStoreError(
                code: SessionStoreError.Code.operationAbandoned,
                message: "operation \(operationId) was abandoned and cannot be used again")
        }
        return row
    }
}
