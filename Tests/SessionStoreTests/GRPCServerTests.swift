import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import SessionStore
import SessionStoreGRPC
import Testing

/// The gRPC server in this process, called by a Swift gRPC client over loopback: every
/// call counts in the per-method metrics with its final status, a refused token is
/// recorded, and another principal's key is not found.
@Suite struct GRPCServerTests {
    static let tokens = "alice-token-0123456789 alice\nmallory-token-0123456789 mallory\n"

    /// Runs `body` with a client of a server over `store` on a free loopback port.
    static func withServer(
        _ store: SessionStore, metrics: RecordingMetricsFactory,
        _ body: (Sessionstore_V1_SessionManagement.Client<HTTP2ClientTransport.Posix>) async throws -> Void
    ) async throws {
        let server = SessionStoreGRPCServer(
            store: store,
            configuration: .init(port: 0, authentication: .bearerTokens(try BearerTokens(parsing: tokens))),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), metrics: metrics)
        let serving = Task { try await server.run() }
        defer { serving.cancel() }
        let port = try await server.listeningPort
        try await withGRPCClient(
            transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
        ) { client in
            try await body(Sessionstore_V1_SessionManagement.Client(wrapping: client))
        }
    }

    static func bearer(_ token: String) -> Metadata { ["authorization": "Bearer \(token)"] }

    @Test func everyCallCountsWithItsMethodAndStatus() async throws {
        let test = TestStore()
        let metrics = RecordingMetricsFactory()
        try await test.withStore { store in
            try await Self.withServer(store, metrics: metrics) { sessions in
                var open = Sessionstore_V1_CreateSessionRequest()
                open.dataSource = "ds"
                let created = try await sessions.createSession(open, metadata: Self.bearer("alice-token-0123456789"))
                #expect(created.session.userID == "alice" && created.created)

                var touch = Sessionstore_V1_TouchSessionRequest()
                touch.sessionKey = created.sessionKey
                // Mallory's touch of alice's key: not found, with the store's code.
                await #expect {
                    _ = try await sessions.touchSession(touch, metadata: Self.bearer("mallory-token-0123456789"))
                } throws: { error in
                    guard let error = error as? RPCError else { return false }
                    return error.code == .notFound
                        && Array(error.metadata[stringValues: RPCError.sessionStoreCodeKey]) == ["INVALID_HANDLE.SESSION_NOT_FOUND"]
                }
                let touched = try await sessions.touchSession(touch, metadata: Self.bearer("alice-token-0123456789"))
                #expect(touched.live)
                #expect(try await store.session(key: created.sessionKey)?.userId == "alice")
            }
            let touchMethod = "sessionstore.v1.SessionManagement/TouchSession"
            #expect(metrics.counterTotal("sessionstore_grpc_requests_total", ["method": touchMethod, "status": "ok"]) == 1)
            #expect(metrics.counterTotal("sessionstore_grpc_requests_total", ["method": touchMethod, "status": "notFound"]) == 1)
            #expect(
                metrics.counterTotal(
                    "sessionstore_grpc_requests_total", ["method": "sessionstore.v1.SessionManagement/CreateSession", "status": "ok"]) == 1)
            #expect(metrics.timerValues("sessionstore_grpc_request_duration_seconds", ["method": touchMethod]).count == 2)
        }
    }

    @Test func aWrongTokenIsRefusedAndRecorded() async throws {
        let test = TestStore()
        let metrics = RecordingMetricsFactory()
        try await test.withStore { store in
            let before = try await store.latestEventSeq()
            try await Self.withServer(store, metrics: metrics) { sessions in
                await #expect {
                    _ = try await sessions.createSession(.init(), metadata: Self.bearer("guess"))
                } throws: { error in
                    (error as? RPCError)?.code == .unauthenticated
                }
            }
            let refused = try await store.listEvents(after: before, filter: EventFilter(kind: EventKind.callRefused))
            #expect(refused.count == 1)
            #expect(refused.first?.payload["method"] == "sessionstore.v1.SessionManagement/CreateSession")
            #expect(refused.first?.payload["reason"] == "unknown bearer token")
            #expect(refused.first?.payload["clientAddress"] == "127.0.0.1")
            #expect(try await store.listSessions(SessionFilter(states: .all)).isEmpty)
            #expect(
                metrics.counterTotal(
                    "sessionstore_grpc_requests_total",
                    ["method": "sessionstore.v1.SessionManagement/CreateSession", "status": "unauthenticated"]) == 1)
        }
    }
}
