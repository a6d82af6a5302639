import GRPCCore
import Metrics
import Tracing

/// Records every call as swift-metrics and as a swift-distributed-tracing span.
///
/// - `sessionstore_grpc_requests_total{method, status}`: calls by method (e.g.
///   `sessionstore.v1.SessionManagement/TouchSession`) and final status (`ok`,
///   `notFound`, …), counted when the call ends: for a stream, when it ends.
/// - `sessionstore_grpc_request_duration_seconds{method}`: the time from the call's
///   arrival to its end.
/// - A span of kind `server` named after the method, with `rpc.system`, `rpc.service`,
///   `rpc.method` and `rpc.grpc.status_code`; a no-op unless the process bootstrapped a
///   tracer.
struct ObservabilityInterceptor: ServerInterceptor {
    /// The label of the calls counter.
    static let requestsLabel = "sessionstore_grpc_requests_total"
    /// The label of the latency timer.
    static let durationLabel = "sessionstore_grpc_request_duration_seconds"

    let metrics: any MetricsFactory

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let call = ObservedCall(method: context.descriptor, metrics: metrics)
        do {
            var response = try await ServiceContext.withValue(call.span.context) { try await next(request, context) }
            switch response.accepted {
            case .failure(let error):
                call.end(error.code)
            case .success(var contents):
                let producer = contents.producer
                contents.producer = { writer in
                    do {
                        let trailers = try await ServiceContext.withValue(call.span.context) { try await producer(writer) }
                        call.end(nil)
                        return trailers
                    } catch {
                        call.end(Self.code(of: error))
                        throw error
                    }
                }
                response.accepted = .success(contents)
            }
            return response
        } catch {
            call.end(Self.code(of: error))
            throw error
        }
    }

    static func code(of error: any Error) -> RPCError.Code {
        switch error {
        case let error as RPCError: error.code
        case is CancellationError: .cancelled
        default: .unknown
        }
    }
}

/// One call's span and clock; ended once.
private struct ObservedCall: Sendable {
    let method: String
    let span: any Span
    let start: ContinuousClock.Instant
    let metrics: any MetricsFactory

    init(method descriptor: MethodDescriptor, metrics: any MetricsFactory) {
        self.method = descriptor.fullyQualifiedMethod
        self.metrics = metrics
        self.start = .now
        let span = startSpan(descriptor.fullyQualifiedMethod, ofKind: .server)
        span.attributes["rpc.system"] = "grpc"
        span.attributes["rpc.service"] = descriptor.service.fullyQualifiedService
        span.attributes["rpc.method"] = descriptor.method
        self.span = span
    }

    /// Ends the call with `code`, `nil` for OK.
    func end(_ code: RPCError.Code?) {
        let status = code.map { "\($0)" } ?? "ok"
        Counter(label: ObservabilityInterceptor.requestsLabel, dimensions: [("method", method), ("status", status)], factory: metrics)
            .increment()
        let elapsed = ContinuousClock.now - start
        Metrics.Timer(label: ObservabilityInterceptor.durationLabel, dimensions: [("method", method)], factory: metrics)
            .recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        span.attributes["rpc.grpc.status_code"] = code.map { $0.rawValue } ?? 0
        if let code { span.setStatus(SpanStatus(code: .error, message: "\(code)")) }
        span.end()
    }
}
