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

    /// 200 stop streams over gRPC are 200 consumers of the store's one follower: a session
    /// end reaches every one for one read of the log, and streams the client cancels or
    /// whose deadline passes leave no consumer behind.
    @Test func streamsShareTheFollowerAndLeaveNothingWhenCancelledOrOutOfTime() async throws {
        let test = TestStore()
        let metrics = RecordingMetricsFactory()
        try await test.withStore { store in
            let follower = store.eventFollower
            let alice = Self.bearer("alice-token-0123456789")
            try await Self.withServer(store, metrics: metrics) { sessions in
                let created = try await sessions.createSession(.init(), metadata: alice)
                let received = NotificationFollowerTests.Counter()
                var stops = Sessionstore_V1_GetSessionStopNotificationRequest()
                stops.dataSource = created.session.dataSource
                let request = stops
                let streams = (0..<200).map { _ in
                    Task {
                        try? await sessions.getSessionStopNotification(request, metadata: alice) { response in
                            for try await _ in response.messages { received.increment() }
                        }
                    }
                }
                #expect(await NotificationFollowerTests.eventually { follower.consumerCount == 200 }, "\(follower.consumerCount) consumers")
                let reads = follower.eventReads
                var end = Sessionstore_V1_EndSessionRequest()
                end.sessionKey = created.sessionKey
                _ = try await sessions.endSession(end, metadata: alice)
                #expect(await NotificationFollowerTests.eventually { received.count == 200 }, "\(received.count) of 200 stops delivered")
                #expect(follower.eventReads - reads == 1, "one commit, 200 streams: \(follower.eventReads - reads) reads")
                for stream in streams { stream.cancel() }
                for stream in streams { await stream.value }
                #expect(await NotificationFollowerTests.eventually { follower.consumerCount == 0 }, "\(follower.consumerCount) left")

                // Streams whose deadline passes end with DEADLINE_EXCEEDED and leave nothing.
                var shortDeadline = CallOptions.defaults
                shortDeadline.timeout = .seconds(2)
                let options = shortDeadline
                let timed = (0..<20).map { _ in
                    Task { () -> RPCError.Code? in
                        do {
                            try await sessions.getSessionStopNotification(request, metadata: alice, options: options) { response in
                                for try await _ in response.messages {}
                            }
                            return nil
                        } catch let error as RPCError {
                            return error.code
                        }
                    }
                }
                for stream in timed { #expect(try await stream.value == .deadlineExceeded) }
                #expect(await NotificationFollowerTests.eventually { follower.consumerCount == 0 }, "\(follower.consumerCount) left")
            }
        }
    }

    /// A SIGTERM that arrives as serve starts — before its server listens — still ends
    /// serve with 0: the wait for the listening port ends with the server.
    @Test func aSigtermAsServeStartsEndsItCleanly() async throws {
        for _ in 0..<3 {
            let directory = TemporaryDirectory()
            let serve = try await SpawnedSessionctl(["--db", directory.path("s.sqlite"), "serve", "--listen", "127.0.0.1:0"])
            let serving = await MultiProcessSweepTests.eventually(within: .seconds(60)) { serve.stderrText().contains("serving") }
            #expect(serving, "serve did not start: \(serve.stderrText())")
            await MultiProcessSweepTests.stop(serve, with: SIGTERM)
        }
    }
}
