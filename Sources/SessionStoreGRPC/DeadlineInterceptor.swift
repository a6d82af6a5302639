import GRPCCore

/// Ends a call whose deadline passed with `DEADLINE_EXCEEDED`, as gRPC defines it.
///
/// grpc-swift meets a deadline (`grpc-timeout`) by cancelling the call, so on its own a
/// handler stopped by its deadline ends with whatever cancellation leaves: `CANCELLED`
/// from the store's calls, `OK` from a stream that simply stops (health `Watch`). Here a
/// call that fails, or a stream that ends, once its deadline has passed ends
/// `DEADLINE_EXCEEDED` instead. So does a unary call whose answer is sent after its
/// deadline, though its work may be committed: its client's own deadline has passed too
/// and reports `DEADLINE_EXCEEDED` whatever the server sends, which in gRPC means "may
/// have happened".
///
/// grpc-swift counts the deadline from the call's arrival, a little before it reaches
/// the interceptors, so its cancellation can come just before the deadline counted here:
/// the deadline here is taken ``arrivalAllowance`` early (at most half the timeout).
/// ``RequestHeaderGuard`` has already refused malformed values and answered deadlines too
/// short to run.
struct DeadlineInterceptor: ServerInterceptor {
    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        guard let value = request.metadata[stringValues: "grpc-timeout"].first(where: { _ in true }),
            let timeout = RequestHeaderGuard.parseTimeout(value)
        else {
            return try await next(request, context)
        }
        let deadline = ContinuousClock.now.advanced(by: timeout - min(Self.arrivalAllowance, timeout / 2))
        var response: StreamingServerResponse<Output>
        do {
            response = try await next(request, context)
        } catch {
            throw Self.status(of: error, deadline: deadline)
        }
        guard case .success(var contents) = response.accepted else { return response }
        let producer = contents.producer
        contents.producer = { writer in
            let trailers: Metadata
            do {
                trailers = try await producer(writer)
            } catch {
                throw Self.status(of: error, deadline: deadline)
            }
            guard ContinuousClock.now < deadline else { throw Self.deadlineExceeded }
            return trailers
        }
        response.accepted = .success(contents)
        return response
    }

    static let deadlineExceeded = RPCError(code: .deadlineExceeded, message: "the call's deadline passed")
    /// How much earlier than this interceptor grpc-swift may have started the deadline.
    static let arrivalAllowance = Duration.milliseconds(100)

    /// `error`, or `DEADLINE_EXCEEDED` once `deadline` has passed.
    private static func status(of error: any Error, deadline: ContinuousClock.Instant) -> any Error {
        ContinuousClock.now < deadline ? error : deadlineExceeded
    }
}
