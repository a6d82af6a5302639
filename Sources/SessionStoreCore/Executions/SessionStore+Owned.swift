
/// Streaming queries and owned resources by session key: unchecked calls for trusted code
/// in the process. A caller that is not trusted is served through
/// ``SessionStore/acting(as:)``, whose ``ScopedSessionStore`` makes the same calls for
/// one principal.
extension SessionStore {
    // MARK: Streaming queries

    /// Registers an active streaming query in a live session.
    ///
    /// - Parameters:
    ///   - key: the session's key.
    ///   - queryId: the query's id, unique in the session.
    ///   - runId: the id of the query's current run.
    ///   - name: the query's name, if it has one.
    ///   - operationId: the execution that started it; with `tags`, it decides which
    ///     interrupts stop the query.
    ///   - tags: labels that ``SessionStore/interrupt(key:tag:)`` and
    ///     ``SessionStore/interruptAll(key:)`` match. A query started by an execution of the
    ///     session also carries that execution's tags.
    /// - Throws: `LIMIT_EXCEEDED.STREAMING_QUERIES_PER_SESSION` (active queries),
    ///   `LIMIT_EXCEEDED.QUERIES_PER_SESSION` (queries kept, stopped ones included),
    ///   `LIMIT_EXCEEDED.TAGS_PER_EXECUTION` (its own tags, or those with its execution's),
    ///   `INVALID_HANDLE.STREAMING_QUERY_ALREADY_EXISTS`, `INVALID_HANDLE.SESSION_CLOSED`.
    @discardableResult
    public func registerQuery(
        key: String, queryId: String, runId: String, name: String? = nil, operationId: String? = nil,
        tags: [String] = []
    ) async throws -> StreamingQuery {
        try await registerQuery(
            key: key, queryId: queryId, runId: runId, name: name, operationId: operationId, tags: tags, scope: nil)
    }

    @discardableResult
    func registerQuery(
        key: String, queryId: String, runId: String, name: String? = nil, operationId: String? = nil,
        tags: [String] = []
    , scope: AccessScope?) async throws -> StreamingQuery {
        let validator = configuration.validator
        let key = try validator.key(key)
        let queryId = try validator.id(queryId, field: .invalidQueryId)
        let runId = try validator.id(runId, field: .invalidRunId)
        let name = try validator.optionalId(name, field: .invalidQueryName)
        let operationId = try operationId.map { (id) throws in try validator.operationId(id) }
        let tags = try validator.tags(tags)
        let maxQueries = configuration.limits.maxStreamingQueriesPerSession
        let maxKept = configuration.limits.maxQueriesPerSession
        let maxTags = configuration.limits.maxTagsPerExecution
        return try await mutate(key: key, scope: scope) { db, session, now in
            if try db.queries.findQuery(sessionRowId: session.id, queryId: queryId) != nil {
                throw SessionStoreError(
                    code: SessionStoreError.Code.queryAlreadyExists,
                    message: "streaming query \(queryId.debugDescriptionPrefix) is already registered in session \(key)")
            }
            try Limits.enforcePerSession(
                maxQueries, code: .streamingQueriesPerSession, key: key, what: "active streaming queries"
            ) { try db.queries.activeQueryCount(sessionRowId: session.id) }
            try Limits.enforcePerSession(maxKept, code: .queriesPerSession, key: key, what: "streaming queries") {
                try db.queries.queryCount(sessionRowId: session.id)
            }
            var inherited: [String] = []
            if let operationId, let execution = try db.executions.find(sessionRowId: session.id, operationId: operationId) {
                inherited = try db.executions.tags(executionRowId: execution.id)
            }
            let allTags = Array(Set(tags + inherited)).sorted()
            guard allTags.count <= maxTags else {
                throw SessionStoreError(
                    code: SessionStoreError.Code.tagsPerExecution,
                    message: "streaming query \(queryId.debugDescriptionPrefix) would carry \(allTags.count) tags; the limit is \(maxTags)")
            }
            let query = StreamingQuery(
                queryId: queryId, runId: runId, name: name, sessionKey: key, operationId: operationId,
                tags: allTags, state: .active, registeredAt: Timestamp(milliseconds: now),
                stoppedAt: nil, stopReason: nil)
            try db.queries.insertQuery(sessionRowId: session.id, query)
            try db.events.append(at: now, kind: EventKind.queryRegistered, subject: session.subject,
                payload: ["queryId": queryId, "runId": runId])
            return query
        }
    }

    /// A streaming query of the session, active or stopped (until retention removes it).
    public func query(key: String, queryId: String) async throws -> StreamingQuery? {
        try await query(key: key, queryId: queryId, scope: nil)
    }

    func query(key: String, queryId: String, scope: AccessScope?) async throws -> StreamingQuery? {
        let key = try configuration.validator.key(key)
        let queryId = try configuration.validator.id(queryId, field: .invalidQueryId)
        return try await read { db in
            let session = try Access.row(db, key: key, scope: scope)
            return try db.queries.findQuery(sessionRowId: session.id, queryId: queryId)?.query
        }
    }

    /// Every streaming query of the session that is still kept, oldest first.
    public func listQueries(key: String) async throws -> [StreamingQuery] {
        try await listQueries(key: key, scope: nil)
    }

    func listQueries(key: String, scope: AccessScope?) async throws -> [StreamingQuery] {
        let key = try configuration.validator.key(key)
        return try await read { db in
            let session = try Access.row(db, key: key, scope: scope)
            return try db.queries.queries(sessionRowId: session.id)
        }
    }

    /// The session's active streaming queries.
    public func listActiveQueries(key: String) async throws -> [StreamingQuery] {
        try await listActiveQueries(key: key, scope: nil)
    }

    func listActiveQueries(key: String, scope: AccessScope?) async throws -> [StreamingQuery] {
        try await listQueries(key: key, scope: scope).filter { $0.state == .active }
    }

    /// Stops an active streaming query; stopping a stopped one changes nothing.
    @discardableResult
    public func stopQuery(key: String, queryId: String, reason: String = "stopped by client") async throws -> StreamingQuery {
        try await stopQuery(key: key, queryId: queryId, reason: reason, scope: nil)
    }

    @discardableResult
    func stopQuery(key: String, queryId: String, reason: String, scope: AccessScope?) async throws -> StreamingQuery {
        let key = try configuration.validator.key(key)
        let queryId = try configuration.validator.id(queryId, field: .invalidQueryId)
        try configuration.validator.value(reason, field: .invalidReason)
        return try await mutate(key: key, scope: scope) { db, session, now in
            guard let (rowId, query) = try db.queries.findQuery(sessionRowId: session.id, queryId: queryId) else {
                throw Self.queryNotFound(queryId, key)
            }
            guard try ExecutionTransitions.stop(db, queryRowId: rowId, queryId: queryId, of: session, reason: reason, at: now) else {
                return query
            }
            var stopped = query
            stopped.state = .stopped
            stopped.stoppedAt = Timestamp(milliseconds: now)
            stopped.stopReason = reason
            return stopped
        }
    }

    /// Forgets a streaming query, stopping it first if it is active. Returns the query as
    /// it was when removed (stopped, if this call stopped it).
    @discardableResult
    public func removeQuery(key: String, queryId: String) async throws -> StreamingQuery {
        try await removeQuery(key: key, queryId: queryId, scope: nil)
    }

    @discardableResult
    func removeQuery(key: String, queryId: String, scope: AccessScope?) async throws -> StreamingQuery {
        let key = try configuration.validator.key(key)
        let queryId = try configuration.validator.id(queryId, field: .invalidQueryId)
        return try await mutate(key: key, scope: scope) { db, session, now in
            guard let (rowId, query) = try db.queries.findQuery(sessionRowId: session.id, queryId: queryId) else {
                throw Self.queryNotFound(queryId, key)
            }
            var removed = query
            if query.state == .active {
                try ExecutionTransitions.stop(db, queryRowId: rowId, queryId: queryId, of: session, reason: "removed", at: now)
                removed.state = .stopped
                removed.stoppedAt = Timestamp(milliseconds: now)
                removed.stopReason = "removed"
            }
            try db.queries.deleteQuery(queryRowId: rowId)
            try db.events.append(at: now, kind: EventKind.queryRemoved, subject: session.subject, payload: ["queryId": queryId])
            return removed
        }
    }

    private static func queryNotFound(_ queryId: String, _ key: String) -> SessionStoreError {
        SessionStoreError(
            code: SessionStoreError.Code.queryNotFound,
            message: "no streaming query \(queryId.debugDescriptionPrefix) in session \(key)")
    }

    // MARK: Owned resources

    /// Records that the session owns a resource of `bytes` bytes. It is released when
    /// the session ends; ``resourceReleases(subscription:pollInterval:)`` delivers the
    /// release to the owner, and ``SessionStoreConfiguration/resourceReleaseHandler`` is
    /// told after that commits (in the releasing process only).
    ///
    /// A resource of 0 bytes adds nothing to the bytes the session holds, so it passes the
    /// byte limit even when the session is at it; it still counts against
    /// ``SessionLimits/maxResourcesPerSession``, which bounds how many a session owns
    /// whatever their size. Without a byte limit, the session's total must still fit in
    /// `Int64`: a resource that would carry it past `Int64.max` bytes is refused.
    ///
    /// - Throws: `LIMIT_EXCEEDED.RESOURCES_PER_SESSION`,
    ///   `LIMIT_EXCEEDED.RESOURCE_BYTES_PER_SESSION` (nothing written for either),
    ///   `INVALID_HANDLE.RESOURCE_ALREADY_EXISTS`, `INVALID_ARGUMENT.BYTES` for a negative
    ///   size.
    @discardableResult
    public func addResource(key: String, kind: String, name: String, bytes: Int64) async throws -> OwnedResource {
        try await addResource(key: key, kind: kind, name: name, bytes: bytes, scope: nil)
    }

    @discardableResult
    func addResource(key: String, kind: String, name: String, bytes: Int64, scope: AccessScope?) async throws -> OwnedResource {
        let validator = configuration.validator
        let key = try validator.key(key)
        let kind = try validator.id(kind, field: .invalidResourceKind)
        let name = try validator.id(name, field: .invalidResourceName)
        guard bytes >= 0 else { throw SessionStoreError.invalidArgument(.invalidBytes, "a resource size must not be negative (got \(bytes))") }
        let maxBytes = configuration.limits.maxResourceBytesPerSession
        let maxResources = configuration.limits.maxResourcesPerSession
        return try await mutate(key: key, scope: scope) { db, session, now in
            try Limits.enforcePerSession(maxResources, code: .resourcesPerSession, key: key, what: "resources") {
                try db.resources.resourceCount(sessionRowId: session.id)
            }
            let held = try db.resources.resourceBytes(sessionRowId: session.id)
            // Unlimited still means a total that fits in Int64: both are at least 0, so
            // the subtraction cannot overflow where the sum could.
            let limit = maxBytes ?? .max
            if held > limit - bytes {
                throw SessionStoreError(
                    code: SessionStoreError.Code.resourceBytesPerSession,
                    message: "session \(key) holds \(held) bytes; \(bytes) more exceed the limit of \(limit)")
            }
            let resource = OwnedResource(
                sessionKey: key, kind: kind, name: name, bytes: bytes, createdAt: Timestamp(milliseconds: now))
            do {
                try db.resources.insertResource(sessionRowId: session.id, resource)
            } catch let error as any StorageFailure where error.isUniqueViolation {
                throw SessionStoreError(
                    code: SessionStoreError.Code.resourceAlreadyExists,
                    message: "session \(key) already owns \(kind) \(name.debugDescriptionPrefix)")
            }
            try db.events.append(at: now, kind: EventKind.resourceAdded, subject: session.subject,
                payload: ["kind": kind, "name": name, "bytes": "\(bytes)"])
            return resource
        }
    }

    /// The resources the session owns now.
    public func listResources(key: String) async throws -> [OwnedResource] {
        try await listResources(key: key, scope: nil)
    }

    func listResources(key: String, scope: AccessScope?) async throws -> [OwnedResource] {
        let key = try configuration.validator.key(key)
        return try await read { db in
            let session = try Access.row(db, key: key, scope: scope)
            return try db.resources.resources(sessionRowId: session.id, sessionKey: key)
        }
    }

    /// Releases one resource before the session ends; the release handler is told after
    /// commit. One indexed delete by (kind, name), whatever the session owns.
    @discardableResult
    public func releaseResource(key: String, kind: String, name: String) async throws -> OwnedResource {
        try await releaseResource(key: key, kind: kind, name: name, scope: nil)
    }

    @discardableResult
    func releaseResource(key: String, kind: String, name: String, scope: AccessScope?) async throws -> OwnedResource {
        let key = try configuration.validator.key(key)
        let kind = try configuration.validator.id(kind, field: .invalidResourceKind)
        let name = try configuration.validator.id(name, field: .invalidResourceName)
        let released = try await mutate(key: key, scope: scope) { db, session, now in
            guard
                let resource = try db.resources.deleteResource(sessionRowId: session.id, sessionKey: key, kind: kind, name: name)
            else {
                throw SessionStoreError(
                    code: SessionStoreError.Code.resourceNotFound,
                    message: "session \(key) owns no \(kind.debugDescriptionPrefix) \(name.debugDescriptionPrefix)")
            }
            try db.events.append(at: now, kind: EventKind.resourceReleased, subject: session.subject,
                payload: resource.releasePayload(reason: "released by client"))
            return resource
        }
        configuration.resourceReleaseHandler?(released)
        return released
    }
}
