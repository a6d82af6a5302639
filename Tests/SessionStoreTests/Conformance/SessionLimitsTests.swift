import Foundation
import Logging
import SessionStore
import Synchronization
import Testing

/// Session-count limits, checked in the insert's transaction; admission (authenticator,
/// impersonation); every refusal a typed error and a `session.refused` event.
@Suite struct SessionLimitsTests {
    /// `session.refused` events whose JSON payload names `code`.
    func refusals(_ test: StoreFixture, code: SessionStoreError.Code) throws -> Int64 {
        Int64(try test.loggedEvents(where: ["kind": .text(EventKind.sessionRefused.rawValue)]).filter { $0.payload["code"] == code.rawValue }.count)
    }

    func open(_ store: SessionStore, _ userId: String, address: String? = nil, dataSource: String = "default")
        async throws -> Session
    {
        var request = OpenSessionRequest(userId: userId)
        request.clientAddress = address
        request.dataSource = dataSource
        return try await store.openSession(request)
    }

    @Test(arguments: Backend.all)
    func fiftyConcurrentOpensAgainstAPerUserLimitOfTen(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.limits.maxSessionsPerUser = 10 } body: { store in
            let outcomes = await withTaskGroup(of: Result<Session, SessionStoreError>.self) { group in
                for index in 0..<50 {
                    group.addTask {
                        return await outcome { try await store.openSession(userId: "ada", sessionId: "s\(index)") }
                    }
                }
                var outcomes: [Result<Session, SessionStoreError>] = []
                for await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            let (opened, refused) = outcomes.partitioned()
            #expect(opened.count == 10)
            #expect(refused.count == 40)
            #expect(refused.allSatisfy { $0.code == SessionStoreError.Code.sessionsPerUser })
            #expect(refused.allSatisfy { $0.message.contains("10") })
            #expect(Set(opened.map(\.key)).count == 10)

            #expect(try test.inspector.count("sessions") == 10)
            #expect(try test.inspector.count("sessions", where: ["user_id": "ada", "state": "idle"]) == 10)
            #expect(try test.inspector.integer("live", of: "live_session_counts", where: ["scope": "user", "name": "ada"]) == 10)
            #expect(try test.eventCount(kind: EventKind.sessionStarted) == 10)
            #expect(try test.eventCount(kind: EventKind.sessionRefused) == 40)
            #expect(try refusals(test, code: SessionStoreError.Code.sessionsPerUser) == 40)
            #expect(
                try test.loggedEvents(where: ["kind": .text(EventKind.sessionRefused.rawValue)]).filter { $0.userId == "ada" && $0.payload["limit"] == "10" }
                    .count == 40)

            // Another user is not affected.
            _ = try await store.openSession(userId: "bob")
            #expect(try await store.checkIntegrity().isHealthy)
        }
    }

    @Test(arguments: Backend.all)
    func maxSessionsLimitsTheWholeStore(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.limits.maxSessions = 3 } body: { store in
            _ = try await open(store, "ada")
            _ = try await open(store, "bob", dataSource: "other")
            _ = try await open(store, "cy", address: "10.0.0.1")
            let before = try test.inspector.count("sessions")
            let error = await expectError(SessionStoreError.Code.sessionsTotal) { try await open(store, "dee") }
            #expect(error?.message.contains("3") == true)
            #expect(try test.inspector.count("sessions") == before)
            #expect(try refusals(test, code: SessionStoreError.Code.sessionsTotal) == 1)
        }
    }

    @Test(arguments: Backend.all)
    func maxSessionsPerAddressCountsEveryUserFromThatAddress(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.limits.maxSessionsPerAddress = 2 } body: { store in
            _ = try await open(store, "ada", address: "10.0.0.1")
            _ = try await open(store, "bob", address: "10.0.0.1")
            await expectError(SessionStoreError.Code.sessionsPerAddress) { try await open(store, "cy", address: "10.0.0.1") }
            _ = try await open(store, "cy", address: "10.0.0.2")
            _ = try await open(store, "cy")  // no address: not counted
            #expect(try test.inspector.count("sessions") == 4)
            #expect(
                try test.inspector.integer("live", of: "live_session_counts", where: ["scope": "address", "name": "10.0.0.1"]) == 2)
            #expect(try refusals(test, code: SessionStoreError.Code.sessionsPerAddress) == 1)
        }
    }

    @Test(arguments: Backend.all)
    func maxSessionsPerUserAddressCountsOneUserFromOneAddress(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.limits.maxSessionsPerUserAddress = 1 } body: { store in
            _ = try await open(store, "ada", address: "10.0.0.1")
            await expectError(SessionStoreError.Code.sessionsPerUserAddress) {
                try await open(store, "ada", address: "10.0.0.1")
            }
            _ = try await open(store, "ada", address: "10.0.0.2")
            _ = try await open(store, "bob", address: "10.0.0.1")
            _ = try await open(store, "ada")
            #expect(try test.inspector.count("sessions") == 4)
            #expect(try refusals(test, code: SessionStoreError.Code.sessionsPerUserAddress) == 1)
        }
    }

    @Test(arguments: Backend.all)
    func maxSessionsPerDataSourceCountsOneDataSource(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.limits.maxSessionsPerDataSource = 2 } body: { store in
            _ = try await open(store, "ada", dataSource: "telemetry")
            _ = try await open(store, "bob", dataSource: "telemetry")
            await expectError(SessionStoreError.Code.sessionsPerDataSource) {
                try await open(store, "cy", dataSource: "telemetry")
            }
            _ = try await open(store, "cy", dataSource: "billing")
            #expect(try test.inspector.count("sessions", where: ["data_source": "telemetry"]) == 2)
            #expect(try refusals(test, code: SessionStoreError.Code.sessionsPerDataSource) == 1)
            let refusal = try await store.listEvents(filter: EventFilter(kind: EventKind.sessionRefused))
            #expect(refusal.map(\.dataSource) == ["telemetry"])
            #expect(refusal.map(\.userId) == ["cy"])
        }
    }

    @Test(arguments: Backend.all)
    func closingASessionFreesItsSlot(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore {
            $0.limits.maxSessionsPerUser = 1
            $0.limits.maxSessions = 2
            $0.limits.maxSessionsPerAddress = 1
        } body: { store in
            let first = try await open(store, "ada", address: "10.0.0.1")
            await expectError(SessionStoreError.Code.sessionsPerUser) { try await open(store, "ada") }
            await expectError(SessionStoreError.Code.sessionsPerAddress) { try await open(store, "bob", address: "10.0.0.1") }
            try await store.closeSession(key: first.key)
            let second = try await open(store, "ada", address: "10.0.0.1")
            #expect(second.isLive)
            _ = try await open(store, "bob")
            await expectError(SessionStoreError.Code.sessionsTotal) { try await open(store, "cy") }
            // Closing twice does not free a second slot.
            try await store.closeSession(key: first.key)
            await expectError(SessionStoreError.Code.sessionsTotal) { try await open(store, "cy") }
            #expect(try test.inspector.integer("live", of: "live_session_counts", where: ["scope": "total"]) == 2)
            #expect(try test.inspector.count("sessions", where: ["state": "idle"]) == 2)
        }
    }

    @Test(arguments: Backend.all)
    func tooManyDetailsAreRefusedWithNothingWritten(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.limits.maxDetailsPerSession = 2 } body: { store in
            await expectError(SessionStoreError.Code.detailsPerSession) {
                try await store.openSession(userId: "ada", details: ["a": "1", "b": "2", "c": "3"])
            }
            #expect(try test.inspector.count("sessions") == 0)
            let session = try await store.openSession(userId: "ada", details: ["a": "1"])
            let before = try test.inspector.tableCounts()
            await expectError(SessionStoreError.Code.detailsPerSession) {
                try await store.updateDetails(key: session.key, ["b": "2", "c": "3"])
            }
            #expect(try test.inspector.tableCounts() == before)
            #expect(try await store.session(key: session.key)?.details == ["a": "1"])
            #expect(try test.eventCount(kind: EventKind.detailsUpdated) == 0)
        }
    }

    @Test(arguments: Backend.all)
    func replacingADetailDoesNotCountAgainstTheLimit(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.limits.maxDetailsPerSession = 2 } body: { store in
            let session = try await store.openSession(userId: "ada", details: ["a": "1", "b": "2"])
            try await store.updateDetails(key: session.key, ["a": "10", "b": "20"])
            #expect(try await store.session(key: session.key)?.details == ["a": "10", "b": "20"])
            try await store.removeDetails(key: session.key, names: ["a"])
            try await store.updateDetails(key: session.key, ["c": "3"])
            #expect(try await store.session(key: session.key)?.details == ["b": "20", "c": "3"])
        }
    }

    // MARK: Admission

    /// Keeps every log line the store writes, at every level.
    final class LogLines: Sendable {
        struct Line: Sendable {
            let level: Logger.Level
            let message: String
            let metadata: [String: String]
        }

        struct Handler: LogHandler {
            let lines: LogLines
            var logLevel: Logger.Level = .trace
            var metadata: Logger.Metadata = [:]
            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { metadata[key] }
                set { metadata[key] = newValue }
            }

            func log(event: LogEvent) {
                let fields = (event.metadata ?? [:]).mapValues { "\($0)" }
                lines.all.withLock { $0.append(Line(level: event.level, message: "\(event.message)", metadata: fields)) }
            }
        }

        let all = Mutex<[Line]>([])
        var logger: Logger { Logger(label: "test") { _ in Handler(lines: self) } }
        func with(message: String) -> [Line] { all.withLock { $0.filter { $0.message == message } } }
    }

    @Test(arguments: Backend.all)
    func aLimitRefusalAndAnAdmissionRefusalWriteOnePayloadShapeAndOneDebugLine(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        let log = LogLines()
        try await test.withStore {
            $0.limits.maxSessionsPerUser = 1
            $0.logger = log.logger
        } body: { store in
            _ = try await open(store, "ada")
            let limitError = await expectError(SessionStoreError.Code.sessionsPerUser) { try await open(store, "ada") }
            var request = OpenSessionRequest(userId: "gateway")
            request.impersonatedUser = "ada"
            let admissionError = await expectError(SessionStoreError.Code.impersonationDenied) {
                try await store.openSession(request)
            }

            let events = try await store.listEvents(filter: EventFilter(kind: EventKind.sessionRefused))
            #expect(events.map { $0.payload.keys.sorted() } == [["code", "limit", "live", "message"], ["code", "message"]])
            #expect(events.first?.payload["code"] == SessionStoreError.Code.sessionsPerUser.rawValue)
            #expect(events.first?.payload["message"] == limitError?.message)
            #expect(events.first?.payload["limit"] == "1")
            #expect(events.first?.payload["live"] == "1")
            #expect(events.last?.payload["code"] == SessionStoreError.Code.impersonationDenied.rawValue)
            #expect(events.last?.payload["message"] == admissionError?.message)

            let lines = log.with(message: "session refused")
            #expect(lines.map(\.level) == [.debug, .debug])
            #expect(lines.map { $0.metadata["session.user"] } == ["ada", "gateway"])
            #expect(
                lines.map { $0.metadata["error.code"] }
                    == [SessionStoreError.Code.sessionsPerUser.rawValue, SessionStoreError.Code.impersonationDenied.rawValue])
        }
    }

    struct TokenAuthenticator: SessionAuthenticator {
        func authenticate(_ request: AuthenticationRequest) async throws -> Bool {
            request.credentials == "secret-for-\(request.userId)"
        }
    }

    struct BrokenAuthenticator: SessionAuthenticator {
        struct Unreachable: Error {}
        func authenticate(_ request: AuthenticationRequest) async throws -> Bool {
            throw Unreachable()
        }
    }

    @Test(arguments: Backend.all)
    func anAuthenticatorRefusalIsATypedErrorAndAnEvent(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.authenticator = TokenAuthenticator() } body: { store in
            var request = OpenSessionRequest(userId: "ada")
            request.credentials = "wrong"
            await expectError(SessionStoreError.Code.authenticationFailed) { try await store.openSession(request) }
            request.credentials = nil
            await expectError(SessionStoreError.Code.authenticationFailed) { try await store.openSession(request) }
            #expect(try test.inspector.count("sessions") == 0)
            #expect(try refusals(test, code: SessionStoreError.Code.authenticationFailed) == 2)
            #expect(
                try test.inspector.count(
                    "events", where: ["kind": .text(EventKind.sessionRefused.rawValue), "user_id": "ada", "session_key": nil])
                    == 2)

            request.credentials = "secret-for-ada"
            let session = try await store.openSession(request)
            #expect(session.isLive)
            #expect(try test.inspector.count("sessions") == 1)
        }
    }

    @Test(arguments: Backend.all)
    func anAuthenticatorThatThrowsRefuses(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.authenticator = BrokenAuthenticator() } body: { (store) async throws in
            await expectError(SessionStoreError.Code.authenticationFailed) {
                try await store.openSession(userId: "ada")
            }
            #expect(try test.inspector.count("sessions") == 0)
            #expect(try refusals(test, code: SessionStoreError.Code.authenticationFailed) == 1)
        }
    }

    @Test(arguments: Backend.all)
    func impersonationIsRefusedByDefault(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            var request = OpenSessionRequest(userId: "gateway")
            request.impersonatedUser = "ada"
            await expectError(SessionStoreError.Code.impersonationDenied) { try await store.openSession(request) }
            #expect(try test.inspector.count("sessions") == 0)
            #expect(try refusals(test, code: SessionStoreError.Code.impersonationDenied) == 1)
            let events = try await store.listEvents(filter: EventFilter(kind: EventKind.sessionRefused))
            #expect(events.map(\.userId) == ["gateway"])

            // Acting as oneself is not impersonation.
            request.impersonatedUser = "gateway"
            #expect(try await store.openSession(request).impersonatedUser == "gateway")
        }
    }

    @Test(arguments: Backend.all)
    func proxyUsersMayImpersonateAndOthersMayNot(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.impersonationPolicy = ProxyUsersImpersonation(proxyUsers: ["gateway"]) } body: { store in
            var request = OpenSessionRequest(userId: "gateway", sessionId: "s1")
            request.impersonatedUser = "ada"
            let session = try await store.openSession(request)
            #expect(session.userId == "gateway")
            #expect(session.impersonatedUser == "ada")
            #expect(
                try test.inspector.count("sessions", where: ["user_id": "gateway", "impersonated_user": "ada"]) == 1)
            let started = try await store.listEvents(filter: EventFilter(sessionKey: session.key, kind: EventKind.sessionStarted))
            #expect(started.first?.payload["impersonatedUser"] == "ada")

            var other = OpenSessionRequest(userId: "mallory")
            other.impersonatedUser = "ada"
            await expectError(SessionStoreError.Code.impersonationDenied) { try await store.openSession(other) }
            #expect(try test.inspector.count("sessions") == 1)
            #expect(try refusals(test, code: SessionStoreError.Code.impersonationDenied) == 1)
        }
    }

    @Test(arguments: Backend.all)
    func perAddressLimitsSkipAnOpenWithoutAnAddress(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore {
            $0.limits.maxSessionsPerAddress = 1
            $0.limits.maxSessionsPerUserAddress = 1
        } body: { store in
            for _ in 0..<3 { _ = try await open(store, "ada") }
            _ = try await open(store, "ada", address: "10.0.0.1")
            let error = await #expect(throws: SessionStoreError.self) { try await open(store, "bob", address: "10.0.0.1") }
            #expect(error?.code == "LIMIT_EXCEEDED.SESSIONS_PER_ADDRESS")
            #expect(try await store.listSessions().count == 4)
        }
    }
}
