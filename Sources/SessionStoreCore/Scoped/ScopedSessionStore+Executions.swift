import Foundation

// MARK: Executions

extension ScopedSessionStore {
    /// Creates an execution in a session the principal may act on. See
    /// ``SessionStore/createExecution(key:operationId:tags:statement:request:reattachable:timeout:)``.
    @discardableResult
    public func createExecution(
        key: String, operationId: String? = nil, tags: [String] = [], statement: String? = nil,
        request: Data? = nil, reattachable: Bool = false, timeout: Duration? = nil
    ) async throws -> Execution {
        try await store.createExecution(
            key: key, operationId: operationId, tags: tags, statement: statement, request: request,
            reattachable: reattachable, timeout: timeout, scope: scope)
    }

    /// See ``SessionStore/execution(key:operationId:)``.
    public func execution(key: String, operationId: String) async throws -> Execution? {
        try await store.execution(key: key, operationId: operationId, scope: scope)
    }

    /// See ``SessionStore/listExecutions(key:)``.
    public func listExecutions(key: String) async throws -> [Execution] {
        try await store.listExecutions(key: key, scope: scope)
    }

    /// Moves an execution along its status machine; `.closed` releases it. See
    /// ``SessionStore/setExecutionStatus(key:operationId:to:error:)``.
    @discardableResult
    public func setExecutionStatus(
        key: String, operationId: String, to status: ExecutionStatus, error: String? = nil
    ) async throws -> Execution {
        try await store.setExecutionStatus(key: key, operationId: operationId, to: status, error: error, scope: scope)
    }

    /// See ``SessionStore/attachExecution(key:operationId:)``.
    @discardableResult
    public func attachExecution(key: String, operationId: String) async throws -> Execution {
        try await store.setAttached(true, key: key, operationId: operationId, scope: scope)
    }

    /// See ``SessionStore/detachExecution(key:operationId:)``.
    @discardableResult
    public func detachExecution(key: String, operationId: String) async throws -> Execution {
        try await store.setAttached(false, key: key, operationId: operationId, scope: scope)
    }

    /// ``SessionStore/releaseExecution(key:operationId:)`` on one of the principal's sessions.
    @discardableResult
    public func releaseExecution(key: String, operationId: String) async throws -> Execution {
        try await store.releaseExecution(key: key, operationId: operationId, scope: scope)
    }

    /// See ``SessionStore/interrupt(key:operationId:)``.
    public func interrupt(key: String, operationId: String) async throws -> Interruption {
        try await store.interrupt(key: key, operationId: operationId, scope: scope)
    }

    /// See ``SessionStore/interrupt(key:tag:)``.
    public func interrupt(key: String, tag: String) async throws -> Interruption {
        try await store.interrupt(key: key, tag: tag, scope: scope)
    }

    /// See ``SessionStore/interruptAll(key:)``.
    public func interruptAll(key: String) async throws -> Interruption {
        try await store.interruptAll(key: key, scope: scope)
    }

    /// The running executions of the sessions of `user` (the principal when `nil`), or
    /// when the last of them ended. See ``SessionStore/listActiveExecutions(limit:)``.
    ///
    /// - Throws: `PERMISSION_DENIED.IMPERSONATION` for a user the principal may not act as.
    public func listActiveExecutions(user: String? = nil, limit: Int = 10_000) async throws -> ActiveExecutions {
        try await store.listActiveExecutions(limit: limit, userId: self.user(user))
    }

    /// The abandoned executions of the sessions of `user` (the principal when `nil`). See
    /// ``SessionStore/listAbandonedExecutions(limit:)``.
    ///
    /// - Throws: `PERMISSION_DENIED.IMPERSONATION` for a user the principal may not act as.
    public func listAbandonedExecutions(user: String? = nil, limit: Int = 10_000) async throws -> [Execution] {
        try await store.listAbandonedExecutions(limit: limit, userId: self.user(user))
    }
}

// MARK: Streaming queries and owned resources

extension ScopedSessionStore {
    /// See ``SessionStore/registerQuery(key:queryId:runId:name:operationId:tags:)``.
    @discardableResult
    public func registerQuery(
        key: String, queryId: String, runId: String, name: String? = nil, operationId: String? = nil,
        tags: [String] = []
    ) async throws -> StreamingQuery {
        try await store.registerQuery(
            key: key, queryId: queryId, runId: runId, name: name, operationId: operationId, tags: tags, scope: scope)
    }

    /// See ``SessionStore/query(key:queryId:)``.
    public func query(key: String, queryId: String) async throws -> StreamingQuery? {
        try await store.query(key: key, queryId: queryId, scope: scope)
    }

    /// See ``SessionStore/listQueries(key:)``.
    public func listQueries(key: String) async throws -> [StreamingQuery] {
        try await store.listQueries(key: key, scope: scope)
    }

    /// See ``SessionStore/listActiveQueries(key:)``.
    public func listActiveQueries(key: String) async throws -> [StreamingQuery] {
        try await store.listActiveQueries(key: key, scope: scope)
    }

    /// See ``SessionStore/stopQuery(key:queryId:reason:)``.
    @discardableResult
    public func stopQuery(key: String, queryId: String, reason: String = "stopped by client") async throws -> StreamingQuery {
        try await store.stopQuery(key: key, queryId: queryId, reason: reason, scope: scope)
    }

    /// See ``SessionStore/removeQuery(key:queryId:)``.
    @discardableResult
    public func removeQuery(key: String, queryId: String) async throws -> StreamingQuery {
        try await store.removeQuery(key: key, queryId: queryId, scope: scope)
    }

    /// See ``SessionStore/addResource(key:kind:name:bytes:)``.
    @discardableResult
    public func addResource(key: String, kind: String, name: String, bytes: Int64) async throws -> OwnedResource {
        try await store.addResource(key: key, kind: kind, name: name, bytes: bytes, scope: scope)
    }

    /// See ``SessionStore/listResources(key:)``.
    public func listResources(key: String) async throws -> [OwnedResource] {
        try await store.listResources(key: key, scope: scope)
    }

    /// See ``SessionStore/releaseResource(key:kind:name:)``.
    @discardableResult
    public func releaseResource(key: String, kind: String, name: String) async throws -> OwnedResource {
        try await store.releaseResource(key: key, kind: kind, name: name, scope: scope)
    }
}
