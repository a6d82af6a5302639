import GRPCCore
import SessionStoreCore

/// `sessionstore.v1.ExecutionManagement` over a ``SessionStore``: Spark Connect's
/// execution calls (operation ids, tags, reattach, interrupt, release) and the
/// registries of streaming queries and owned resources.
///
/// Every call acts for ``Caller/current`` through the store's principal-scoped view; see
/// ``SessionManagementService``.
public struct ExecutionManagementService: Sessionstore_V1_ExecutionManagement.SimpleServiceProtocol {
    let calls: CallContext

    /// The service over `store`; `drain` ends its reattach streams when the server drains.
    public init(store: SessionStore, drain: DrainSignal = DrainSignal(), streams: StreamLimiter = StreamLimiter()) {
        self.calls = CallContext(store: store, drain: drain, streams: streams)
    }

    public func createExecution(
        request: Sessionstore_V1_CreateExecutionRequest, context: ServerContext
    ) async throws -> Sessionstore_V1_CreateExecutionResponse {
        try await calls.run { view, _ in
            let execution = try await view.createExecution(
                key: request.sessionKey,
                operationId: request.hasOperationID ? request.operationID : nil,
                tags: request.tags,
                statement: request.hasStatement ? request.statement : nil,
                reattachable: request.reattachable,
                timeout: request.hasTimeout ? try request.timeout.storeDuration(field: .invalidTimeout) : nil)
            var response = Sessionstore_V1_CreateExecutionResponse()
            response.execution = Sessionstore_V1_Execution(execution)
            return response
        }
    }

    public func getExecution(
        request: Sessionstore_V1_GetExecutionRequest, context: ServerContext
    ) async throws -> Sessionstore_V1_GetExecutionResponse {
        try await calls.run { view, _ in
            var response = Sessionstore_V1_GetExecutionResponse()
            response.execution = Sessionstore_V1_Execution(
                try await view.existingExecution(key: request.sessionKey, operationId: request.operationID))
            return response
        }
    }

    public func setExecutionStatus(
        request: Sessionstore_V1_SetExecutionStatusRequest, context: ServerContext
    ) async throws -> Sessionstore_V1_SetExecutionStatusResponse {
        try await calls.run { view, _ in
            guard let status = request.status.storeStatus else {
                throw SessionStoreError(code: .invalidTransition, message: "status must be set to a known execution status")
            }
            var response = Sessionstore_V1_SetExecutionStatusResponse()
            response.execution = Sessionstore_V1_Execution(
                try await view.setExecutionStatus(
                    key: request.sessionKey, operationId: request.operationID, to: status,
                    error: request.hasError ? request.error : nil))
            return response
        }
    }

    public func reattachExecution(
        request: Sessionstore_V1_ReattachExecutionRequest,
        response: RPCWriter<Sessionstore_V1_ReattachExecutionResponse>,
        context: ServerContext
    ) async throws {
        try await calls.stream(context) { view, _ in
            // The store attaches, follows and detaches: however the stream ends before the
            // execution does (the client goes away, a deadline, the server drains), the
            // execution is detached and may be reattached later.
            try await view.followExecution(key: request.sessionKey, operationId: request.operationID) { execution in
                var message = Sessionstore_V1_ReattachExecutionResponse()
                message.execution = Sessionstore_V1_Execution(execution)
                try await response.write(message)
            }
        }
    }

    public func detachExecution(
        request: Sessionstore_V1_DetachExecutionRequest, context: ServerContext
    ) async throws -> Sessionstore_V1_DetachExecutionResponse {
        try await calls.run { view, _ in
            var response = Sessionstore_V1_DetachExecutionResponse()
            response.execution = Sessionstore_V1_Execution(
                try await view.detachExecution(key: request.sessionKey, operationId: request.operationID))
            return response
        }
    }

    public func releaseExecute(
        request: Sessionstore_V1_ReleaseExecuteRequest, context: ServerContext
    ) async throws -> Sessionstore_V1_ReleaseExecuteResponse {
        try await calls.run { view, _ in
            // Spark Connect's ReleaseExecute(ReleaseAll): a running execution is
            // interrupted, then closed, in one transaction of the store.
            var response = Sessionstore_V1_ReleaseExecuteResponse()
            response.execution = Sessionstore_V1_Execution(
                try await view.releaseExecution(key: request.sessionKey, operationId: request.operationID))
            return response
        }
    }

    /// The ids it answers are sent whole, unlike the lists: they record what the call did,
    /// and under the default limits they stay within the response budget (see
    /// ``ResponseBudget``).
    public func interrupt(
        request: Sessionstore_V1_InterruptRequest, context: ServerContext
    ) async throws -> Sessionstore_V1_InterruptResponse {
        try await calls.run { view, _ in
            let interruption: Interruption
            switch (request.interruptType, request.interrupt) {
            case (.all, nil):
                interruption = try await view.interruptAll(key: request.sessionKey)
            case (.tag, .operationTag(let tag)):
                interruption = try await view.interrupt(key: request.sessionKey, tag: tag)
            case (.operationID, .operationID(let id)):
                interruption = try await view.interrupt(key: request.sessionKey, operationId: id)
            default:
                throw SessionStoreError(
                    code: .invalidRequest,
                    message: "interrupt_type ALL takes no target, TAG an operation_tag, OPERATION_ID an operation_id")
            }
            var response = Sessionstore_V1_InterruptResponse()
            response.interruptedIds = interruption.operationIds
            response.stoppedQueryIds = interruption.queryIds
            return response
        }
    }

    public func releaseSession(
        request: Sessionstore_V1_ReleaseSessionRequest, context: ServerContext
    ) async throws -> Sessionstore_V1_ReleaseSessionResponse {
        try await calls.run { view, _ in
            var response = Sessionstore_V1_ReleaseSessionResponse()
            response.session = Sessionstore_V1_Session(
                try await view.closeSession(key: request.sessionKey, reason: "released by client").session)
            return response
        }
    }

    // The lists below are cut at the response budget (see ``ResponseBudget``). Those whose
    // response has no field to say so are served in the form that carries trailing
    // metadata; their message-only form gives the same message.

    public func listExecutions(
        request: ServerRequest<Sessionstore_V1_ListExecutionsRequest>, context: ServerContext
    ) async throws -> ServerResponse<Sessionstore_V1_ListExecutionsResponse> {
        let (response, cut) = try await listExecutions(request.message)
        return ServerResponse(response, cut: cut)
    }

    public func listExecutions(
        request: Sessionstore_V1_ListExecutionsRequest, context: ServerContext
    ) async throws -> Sessionstore_V1_ListExecutionsResponse {
        try await listExecutions(request).response
    }

    private func listExecutions(
        _ request: Sessionstore_V1_ListExecutionsRequest
    ) async throws -> (response: Sessionstore_V1_ListExecutionsResponse, cut: Bool) {
        try await calls.run { view, _ in
            // The store reads a session's executions in one go (no paging).
            var budget = ResponseBudget()
            let list = try budget.fill(try await view.listExecutions(key: request.sessionKey), Sessionstore_V1_Execution.init)
            var response = Sessionstore_V1_ListExecutionsResponse()
            response.executions = list.messages
            return (response, list.cut)
        }
    }

    public func listActiveExecutions(
        request: Sessionstore_V1_ListActiveExecutionsRequest, context: ServerContext
    ) async throws -> Sessionstore_V1_ListActiveExecutionsResponse {
        try await calls.run { view, _ in
            let limit = request.limit == 0 ? 10_000 : Int(request.limit)
            let running = try await ResponseBudget.prefix(
                limit: limit,
                read: { count in
                    guard case .running(let executions) = try await view.listActiveExecutions(limit: count) else { return [] }
                    return executions
                },
                message: Sessionstore_V1_Execution.init)
            var response = Sessionstore_V1_ListActiveExecutionsResponse()
            response.executions = running.list.messages
            response.truncated = running.list.cut || running.read == limit
            return response
        }
    }

    public func listAbandonedExecutions(
        request: ServerRequest<Sessionstore_V1_ListAbandonedExecutionsRequest>, context: ServerContext
    ) async throws -> ServerResponse<Sessionstore_V1_ListAbandonedExecutionsResponse> {
        let (response, cut) = try await listAbandonedExecutions(request.message)
        return ServerResponse(response, cut: cut)
    }

    public func listAbandonedExecutions(
        request: Sessionstore_V1_ListAbandonedExecutionsRequest, context: ServerContext
    ) async throws -> Sessionstore_V1_ListAbandonedExecutionsResponse {
        try await listAbandonedExecutions(request).response
    }

    private func listAbandonedExecutions(
        _ request: Sessionstore_V1_ListAbandonedExecutionsRequest
    ) async throws -> (response: Sessionstore_V1_ListAbandonedExecutionsResponse, cut: Bool) {
        try await calls.run { view, _ in
            let abandoned = try await ResponseBudget.prefix(
                limit: request.limit == 0 ? 10_000 : Int(request.limit),
                read: { count in try await view.listAbandonedExecutions(limit: count) },
                message: Sessionstore_V1_Execution.init)
            var response = Sessionstore_V1_ListAbandonedExecutionsResponse()
            response.executions = abandoned.list.messages
            return (response, abandoned.list.cut)
        }
    }

    public func registerStreamingQuery(
        request: Sessionstore_V1_RegisterStreamingQueryRequest, context: ServerContext
    ) async throws -> Sessionstore_V1_RegisterStreamingQueryResponse {
        try await calls.run { view, _ in
            var response = Sessionstore_V1_RegisterStreamingQueryResponse()
            response.query = Sessionstore_V1_StreamingQuery(
                try await view.registerQuery(
                    key: request.sessionKey, queryId: request.queryID, runId: request.runID,
                    name: request.hasName ? request.name : nil,
                    operationId: request.hasOperationID ? request.operationID : nil, tags: request.tags))
            return response
        }
    }

    public func stopStreamingQuery(
        request: Sessionstore_V1_StopStreamingQueryRequest, context: ServerContext
    ) async throws -> Sessionstore_V1_StopStreamingQueryResponse {
        try await calls.run { view, _ in
            var response = Sessionstore_V1_StopStreamingQueryResponse()
            response.query = Sessionstore_V1_StreamingQuery(
                try await view.stopQuery(
                    key: request.sessionKey, queryId: request.queryID,
                    reason: request.reason.isEmpty ? "stopped by client" : request.reason))
            return response
        }
    }

    public func listStreamingQueries(
        request: ServerRequest<Sessionstore_V1_ListStreamingQueriesRequest>, context: ServerContext
    ) async throws -> ServerResponse<Sessionstore_V1_ListStreamingQueriesResponse> {
        let (response, cut) = try await listStreamingQueries(request.message)
        return ServerResponse(response, cut: cut)
    }

    public func listStreamingQueries(
        request: Sessionstore_V1_ListStreamingQueriesRequest, context: ServerContext
    ) async throws -> Sessionstore_V1_ListStreamingQueriesResponse {
        try await listStreamingQueries(request).response
    }

    private func listStreamingQueries(
        _ request: Sessionstore_V1_ListStreamingQueriesRequest
    ) async throws -> (response: Sessionstore_V1_ListStreamingQueriesResponse, cut: Bool) {
        try await calls.run { view, _ in
            let queries =
                request.activeOnly
                ? try await view.listActiveQueries(key: request.sessionKey) : try await view.listQueries(key: request.sessionKey)
            var budget = ResponseBudget()
            let list = try budget.fill(queries, Sessionstore_V1_StreamingQuery.init)
            var response = Sessionstore_V1_ListStreamingQueriesResponse()
            response.queries = list.messages
            return (response, list.cut)
        }
    }

    public func addResource(
        request: Sessionstore_V1_AddResourceRequest, context: ServerContext
    ) async throws -> Sessionstore_V1_AddResourceResponse {
        try await calls.run { view, _ in
            var response = Sessionstore_V1_AddResourceResponse()
            response.resource = Sessionstore_V1_OwnedResource(
                try await view.addResource(key: request.sessionKey, kind: request.kind, name: request.name, bytes: request.bytes))
            return response
        }
    }

    public func releaseResource(
        request: Sessionstore_V1_ReleaseResourceRequest, context: ServerContext
    ) async throws -> Sessionstore_V1_ReleaseResourceResponse {
        try await calls.run { view, _ in
            var response = Sessionstore_V1_ReleaseResourceResponse()
            response.resource = Sessionstore_V1_OwnedResource(
                try await view.releaseResource(key: request.sessionKey, kind: request.kind, name: request.name))
            return response
        }
    }

    public func listResources(
        request: ServerRequest<Sessionstore_V1_ListResourcesRequest>, context: ServerContext
    ) async throws -> ServerResponse<Sessionstore_V1_ListResourcesResponse> {
        let (response, cut) = try await listResources(request.message)
        return ServerResponse(response, cut: cut)
    }

    public func listResources(
        request: Sessionstore_V1_ListResourcesRequest, context: ServerContext
    ) async throws -> Sessionstore_V1_ListResourcesResponse {
        try await listResources(request).response
    }

    private func listResources(
        _ request: Sessionstore_V1_ListResourcesRequest
    ) async throws -> (response: Sessionstore_V1_ListResourcesResponse, cut: Bool) {
        try await calls.run { view, _ in
            var budget = ResponseBudget()
            let list = try budget.fill(try await view.listResources(key: request.sessionKey), Sessionstore_V1_OwnedResource.init)
            var response = Sessionstore_V1_ListResourcesResponse()
            response.resources = list.messages
            return (response, list.cut)
        }
    }
}
