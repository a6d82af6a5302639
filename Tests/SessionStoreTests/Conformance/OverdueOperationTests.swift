import Foundation
import SessionStore
import Synchronization
import Testing

/// Calls on a session whose expiry has passed answer `INVALID_HANDLE.SESSION_EXPIRED`
/// (ZooKeeper's SESSION_EXPIRED), not SESSION_CLOSED: the first write that meets it ends it
/// as the sweeper would (one `session.ended`, what it owns released), later ones change
/// nothing. An open refused by a limit first ends the overdue sessions holding its slots.
@Suite struct OverdueOperationTests {
    /// A 1 s session owning a running execution, a streaming query and a resource, and a
    /// live two-day session; the clock then passes the first one's expiry. The store must
    /// not spare active sessions (`runningSessionsDoNotExpire` off) for the first to be
    /// overdue.
    static func overdueOwner(_ clock: ManualWallClock, _ store: SessionStore) async throws -> (key: String, operationId: String, live: String) {
        let session = try await store.openSession(userId: "ada", timeout: .after(.milliseconds(1_000)))
        let live = try await store.openSession(userId: "bob", timeout: .after(.seconds(2 * 86_400)))
        let execution = try await store.createExecution(key: session.key)
        try await store.setExecutionStatus(key: session.key, operationId: execution.operationId, to: .started)
        try await store.registerQuery(key: session.key, queryId: "q-1", runId: "r-1")
        try await store.addResource(key: session.key, kind: "cache", name: "df-1", bytes: 10)
        clock.advance(by: .milliseconds(2_000))
        return (session.key, execution.operationId, live.key)
    }

    /// Every call on a session (`key`, owning execution `operationId`, `live` another
    /// session) that writes when the session is live, by name.
    static func calls(
        _ store: SessionStore, key: String, operationId: String, live: String
    ) -> [(String, () async throws -> Void)] {
        [
            ("details set", { try await store.updateDetails(key: key, ["a": "1"]) }),
            ("details remove", { try await store.removeDetails(key: key, names: ["a"]) }),
            ("config", { _ = try await store.setConfig(key: key, ["c": "1"]) }),
            ("identifier", { try await store.updateIdentifier(key: key, "x") }),
            ("link as parent", { try await store.addAssociate(parentKey: key, childKey: live) }),
            ("link as child", { try await store.addAssociate(parentKey: live, childKey: key) }),
            ("exec create", { _ = try await store.createExecution(key: key) }),
            ("exec status", { _ = try await store.setExecutionStatus(key: key, operationId: operationId, to: .finished) }),
            ("interrupt", { _ = try await store.interruptAll(key: key) }),
            ("query register", { _ = try await store.registerQuery(key: key, queryId: "q-2", runId: "r-2") }),
            ("query stop", { _ = try await store.stopQuery(key: key, queryId: "q-1") }),
            ("resource add", { _ = try await store.addResource(key: key, kind: "cache", name: "df-2", bytes: 1) }),
            ("close", { _ = try await store.closeSession(key: key) }),
        ]
    }

    @Test(arguments: Backend.all)
    func theFirstWriteEndsItAsTheSweeperWouldAndEveryCallAnswersSessionExpired(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        let released = ReleasedResources()
        try await test.withStore {
            $0.resourceReleaseHandler = released.record
            $0.runningSessionsDoNotExpire = false
        } body: { store in
            let (key, operationId, live) = try await Self.overdueOwner(test.clock, store)
            await expectError(SessionStoreError.Code.sessionExpired) { try await store.updateDetails(key: key, ["a": "1"]) }
            // Committed although the call failed: ended as expired, what it owned released.
            let ended = try #require(try await store.session(key: key))
            #expect(ended.state == .expired && ended.endReason == "expired")
            #expect(try test.endedEventStates(key: key) == ["expired"])
            #expect(try test.executionStatus(operationId: operationId) == "closed")
            #expect(try await store.listResources(key: key).isEmpty)
            #expect(released.names == ["df-1"])
            #expect(try await store.session(key: key)?.endedAt != nil)

            let stored = try test.snapshot()
            for (name, call) in Self.calls(store, key: key, operationId: operationId, live: live) {
                let error = await expectError(SessionStoreError.Code.sessionExpired) { try await call() }
                #expect(error != nil, "\(name)")
            }
            #expect(try test.snapshot() == stored, "a call on an expired session wrote")
            #expect(try await store.sweep().expiredSessions.isEmpty)
            #expect(try test.eventCount(kind: EventKind.sessionEnded) == 1)
        }
    }

    @Test(arguments: Backend.all)
    func closingAnOverdueSessionEndsItAsExpired(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.runningSessionsDoNotExpire = false } body: { store in
            let (key, _, _) = try await Self.overdueOwner(test.clock, store)
            await expectError(SessionStoreError.Code.sessionExpired) { try await store.closeSession(key: key) }
            #expect(try test.endedEventStates(key: key) == ["expired"])
            #expect(try await store.session(key: key)?.endReason == "expired")
            // A session the sweeper expired answers the same.
            let swept = try await store.openSession(userId: "cy", timeout: .after(.milliseconds(1_000)))
            test.clock.advance(by: .milliseconds(2_000))
            #expect(try await store.sweep().expiredSessions.keys == [swept.key])
            await expectError(SessionStoreError.Code.sessionExpired) { try await store.closeSession(key: swept.key) }
            await expectError(SessionStoreError.Code.sessionExpired) { try await store.updateDetails(key: swept.key, ["a": "1"]) }
            #expect(try await store.touch(key: swept.key) == .expired)
            #expect(try test.eventCount(kind: EventKind.sessionEnded) == 2)
        }
    }

    @Test(arguments: Backend.all)
    func anOverdueSessionFreesItsLimitSlotWithoutASweeper(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.limits.maxSessionsPerUser = 1 } body: { store in
            let first = try await store.openSession(userId: "ada", timeout: .after(.milliseconds(1_000)))
            await expectError(SessionStoreError.Code.sessionsPerUser) { try await store.openSession(userId: "ada") }
            test.clock.advance(by: .milliseconds(2_000))
            let second = try await store.openSession(userId: "ada")
            #expect(second.isLive && second.key != first.key)
            #expect(try test.endedEventStates(key: first.key) == ["expired"])
            #expect(try await store.session(key: first.key)?.state == .expired)
            #expect(try await store.sweep().expiredSessions.isEmpty)
            #expect(try test.eventCount(kind: EventKind.sessionEnded) == 1)
            // The live one still holds its slot.
            await expectError(SessionStoreError.Code.sessionsPerUser) { try await store.openSession(userId: "ada") }
        }
    }

    @Test(arguments: Backend.all)
    func everyLimitKeyFreesOnlyItsOwnOverdueSessions(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.limits.maxSessionsPerAddress = 1 } body: { store in
            var request = OpenSessionRequest(userId: "ada")
            request.clientAddress = "10.0.0.1"
            request.timeout = .after(.milliseconds(1_000))
            let first = try await store.openSession(request)
            let elsewhere = try await store.openSession(userId: "bob", timeout: .after(.milliseconds(1_000)))
            test.clock.advance(by: .milliseconds(2_000))
            request.userId = "cy"
            _ = try await store.openSession(request)
            #expect(try test.endedEventStates(key: first.key) == ["expired"])
            // Another key's overdue session is left to the sweeper.
            #expect(try test.endedEventStates(key: elsewhere.key) == [])
            #expect(try await store.sweep().expiredSessions.keys == [elsewhere.key])
        }
    }
}

/// The resources a release handler was told of, in order.
final class ReleasedResources: Sendable {
    private let released = Mutex<[String]>([])
    var names: [String] { released.withLock { $0 } }
    func record(_ resource: OwnedResource) { released.withLock { $0.append(resource.name) } }
}
