import GRPCCore
import SessionStoreCore

/// The standard `grpc.health.v1.Health` service.
///
/// Knows the empty name (the server as a whole) and the two SessionStore services. Each
/// is `SERVING` until the server drains, then `NOT_SERVING`; an unknown name answers
/// `NOT_FOUND` to `Check` and `SERVICE_UNKNOWN` to `Watch`.
public struct HealthService: Grpc_Health_V1_Health.SimpleServiceProtocol {
    /// The names `Check` and `Watch` know.
    public static let serviceNames: Set<String> = [
        "", "sessionstore.v1.SessionManagement", "sessionstore.v1.ExecutionManagement", "grpc.health.v1.Health",
    ]

    let drain: DrainSignal
    let streams: StreamLimiter

    /// The service; it answers `NOT_SERVING` once `drain` fires. Each `Watch` counts
    /// against its caller's `streams`.
    public init(drain: DrainSignal, streams: StreamLimiter = StreamLimiter()) {
        self.drain = drain
        self.streams = streams
    }

    private var status: Grpc_Health_V1_HealthCheckResponse.ServingStatus {
        drain.isDrained ? .notServing : .serving
    }

    public func check(
        request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext
    ) async throws -> Grpc_Health_V1_HealthCheckResponse {
        guard Self.serviceNames.contains(request.service) else {
            throw RPCError(code: .notFound, message: "unknown service \(request.service.prefix(200).debugDescription)")
        }
        var response = Grpc_Health_V1_HealthCheckResponse()
        response.status = status
        return response
    }

    public func watch(
        request: Grpc_Health_V1_HealthCheckRequest,
        response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>,
        context: ServerContext
    ) async throws {
        var message = Grpc_Health_V1_HealthCheckResponse()
        guard Self.serviceNames.contains(request.service) else {
            message.status = .serviceUnknown
            try await response.write(message)
            return
        }
        guard let caller = Caller.current else {
            throw RPCError(SessionStoreError(code: .authenticationFailed, message: "authentication required"))
        }
        try await storeCall {
            try await streams.withStream(of: caller) { try await watchServing(response: response, context: context) }
        }
    }

    /// Writes the status, then waits until the server drains (writing `NOT_SERVING`) or the
    /// call ends.
    private func watchServing(
        response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>, context: ServerContext
    ) async throws {
        var message = Grpc_Health_V1_HealthCheckResponse()
        message.status = status
        try await response.write(message)
        guard message.status == .serving else { return }
        // Until the server drains or the client goes away (which gRPC reports through
        // the context, not by cancelling this task).
        let drained = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await drain.wait()
                return true
            }
            group.addTask {
                _ = try? await context.cancellation.cancelled
                return false
            }
            defer { group.cancelAll() }
            return await group.next() ?? false
        }
        guard drained else { return }
        message.status = .notServing
        try await response.write(message)
    }
}
