import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import SessionStoreCore

/// Establishes the ``Caller`` of every call before any service code runs.
///
/// A call the configured ``CallerAuthentication`` refuses ends with `UNAUTHENTICATED`
/// (the reason stays in the server's log and in a `call.refused` event, recorded in
/// aggregate by a ``RefusalLedger``, never in the answer) and reaches no service. An
/// accepted call runs with ``Caller/current`` set, in its handler and in the producer of
/// its response stream.
///
/// The health service's `Check` answers without credentials: load balancers and
/// orchestrators' probes cannot send one, and it tells nothing but whether the server
/// serves. `Watch`, a stream that holds resources for as long as it lasts, is
/// authenticated like every other call and counts against its caller's streams.
struct CallerInterceptor: ServerInterceptor {
    let authentication: CallerAuthentication
    let trustedProxies: Set<String>
    let store: SessionStore
    let logger: Logger
    let refusals: RefusalLedger

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        if context.descriptor == Grpc_Health_V1_Health.Method.Check.descriptor {
            return try await next(request, context)
        }
        let peerAddress = Caller.address(ofPeer: context.remotePeer)
        if refusals.isBlocked(peerAddress) {
            await store.record(refusals.refuse(method: context.descriptor.fullyQualifiedMethod, address: peerAddress, reason: "blocked"))
            return StreamingServerResponse(
                error: RPCError(SessionStoreError(
                    code: .failedAuthentications,
                    message: "too many failed authentications from this address; retry in a minute")))
        }
        let caller: Caller
        switch identify(request.metadata, context) {
        case .success(let identity):
            var isProxy = false
            if case .principal(let name) = identity { isProxy = trustedProxies.contains(name) }
            caller = Caller(identity: identity, peerAddress: peerAddress, isTrustedProxy: isProxy)
        case .failure(let refusal):
            logger.debug(
                "call refused",
                metadata: ["method": "\(context.descriptor.fullyQualifiedMethod)", "peer": "\(context.remotePeer)", "reason": "\(refusal.reason)"])
            await store.record(
                refusals.refuse(method: context.descriptor.fullyQualifiedMethod, address: peerAddress, reason: refusal.reason))
            return StreamingServerResponse(error: RPCError(SessionStoreError(code: .authenticationFailed, message: "authentication required")))
        }
        var response = try await Caller.$current.withValue(caller) {
            try await next(request, context)
        }
        if case .success(var contents) = response.accepted {
            let producer = contents.producer
            contents.producer = { writer in
                try await Caller.$current.withValue(caller) { try await producer(writer) }
            }
            response.accepted = .success(contents)
        }
        return response
    }

    private struct Refusal: Error {
        var reason: String
    }

    private func identify(_ metadata: Metadata, _ context: ServerContext) -> Result<Caller.Identity, Refusal> {
        switch authentication {
        case .none:
            return .success(.trusted)
        case .bearerTokens(let tokens):
            let values = Array(metadata[stringValues: "authorization"])
            guard values.count == 1, let value = values.first else {
                return .failure(Refusal(reason: values.isEmpty ? "no authorization metadata" : "more than one authorization value"))
            }
            let scheme = "bearer "
            guard value.count > scheme.count, value.prefix(scheme.count).lowercased() == scheme else {
                return .failure(Refusal(reason: "authorization is not a bearer token"))
            }
            guard let principal = tokens.principal(of: value.utf8.dropFirst(scheme.count)) else {
                return .failure(Refusal(reason: "unknown bearer token"))
            }
            return .success(.principal(principal))
        case .clientCertificate:
            guard let tls = context.transportSpecific as? HTTP2ServerTransport.Posix.Context,
                let certificate = tls.peerCertificate
            else { return .failure(Refusal(reason: "no verified client certificate")) }
            guard let name = certificate.subjectCommonName, !name.isEmpty else {
                return .failure(Refusal(reason: "the client certificate's subject has no common name"))
            }
            return .success(.principal(name))
        }
    }
}
