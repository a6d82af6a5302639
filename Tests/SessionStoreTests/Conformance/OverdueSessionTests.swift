import Foundation
import SessionStore
import Testing

/// A session whose expiry has passed is expired for every reader the moment it passes,
/// with no sweeper running: touch writes nothing and says so, get shows it expired, live
/// lists and the metrics gauges leave it out, and reconnect or get-or-create open a new
/// session. Whoever ends it, there is exactly one `session.ended`. (The SQL views, and
/// that nothing is committed at all, are `OverdueSessionSQLiteTests`'.)
@Suite struct OverdueSessionTests {
    static let shortTimeout: Int64 = 1_000

    /// Opens `overdue` (1 s, client session id "nb-1") and `live` (two days, "nb-2"), links
    /// `overdue` under `live`, then moves the clock 2 s on.
    static func overdueAndLive(_ clock: ManualWallClock, _ store: SessionStore) async throws -> (overdue: Session, live: Session) {
        var request = OpenSessionRequest(userId: "ada", sessionId: "nb-1")
        request.dataSource = "warehouse"
        request.timeout = .after(.milliseconds(shortTimeout))
        let overdue = try await store.openSession(request)
        let live = try await store.openSession(
            userId: "ada", sessionId: "nb-2", dataSource: "warehouse", timeout: .after(.seconds(2 * 86_400)))
        try await store.addAssociate(parentKey: live.key, childKey: overdue.key)
        clock.advance(by: .milliseconds(2 * shortTimeout))
        return (overdue, live)
    }

    @Test(arguments: Backend.all)
    func touchAnswersExpiredAndWritesNothing(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let (overdue, live) = try await Self.overdueAndLive(test.clock, store)
            let timing = try test.timing(key: overdue.key)
            let stored = try test.snapshot()

            #expect(try await store.touch(key: overdue.key) == .expired)
            #expect(try test.timing(key: overdue.key) == timing)
            #expect(try test.snapshot() == stored, "a touch of an overdue session wrote")
            #expect(try await store.touch(key: live.key) == .live)
            #expect(try await store.touch(key: UUID().uuidString) == .unknown)

            // At exactly its expiry a session is overdue: the sweeper's comparison.
            let exact = try await store.openSession(userId: "bob", timeout: .after(.milliseconds(Self.shortTimeout)))
            test.clock.set(try #require(exact.expireAt?.milliseconds))
            #expect(try await store.touch(key: exact.key) == .expired)
            #expect(try test.timing(key: exact.key)?.lastAccessAt == exact.createdAt.milliseconds)
            #expect(try test.eventCount(kind: EventKind.sessionEnded) == 0)
        }
    }

    @Test(arguments: Backend.all)
    func everyReadShowsItExpiredAndWritesNothing(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let (overdue, live) = try await Self.overdueAndLive(test.clock, store)
            let expiry = try #require(overdue.expireAt)
            let stored = try test.snapshot()

            let shown = try #require(try await store.session(key: overdue.key))
            #expect(shown.state == .expired && !shown.isLive)
            #expect(shown.endedAt == expiry)
            #expect(shown.endReason == "expired")
            #expect(shown.expireAt == nil)
            #expect(try await store.session(key: live.key)?.state == .idle)

            let keys = { (filter: SessionFilter) in try await store.listSessions(filter).map(\.key) }
            #expect(try await keys(SessionFilter(states: .live)) == [live.key])
            #expect(try await keys(SessionFilter(states: .live, userId: "ada")) == [live.key])
            #expect(try await keys(SessionFilter(states: .live, dataSource: "warehouse")) == [live.key])
            #expect(try await keys(SessionFilter(states: .only(.idle))) == [live.key])
            #expect(try await keys(SessionFilter(states: .ended)) == [overdue.key])
            #expect(try await keys(SessionFilter(states: .only(.expired), userId: "ada")) == [overdue.key])
            #expect(try await keys(SessionFilter(states: .live, limit: 1)) == [live.key], "a page short of rows is filled")
            let all = try await store.listSessions(SessionFilter(states: .all))
            #expect(all.map(\.key) == [overdue.key, live.key])
            #expect(all.first == shown)
            #expect(try await store.listCurrentSessions().map(\.key) == [live.key])
            #expect(try await store.listCurrentSessions(dataSource: "warehouse").map(\.key) == [live.key])

            #expect(try await store.listChildren(key: live.key).map(\.state) == [.expired])
            #expect(try await store.listParents(key: overdue.key).map(\.state) == [.idle])
            let tree = try await store.sessionTree(key: live.key)
            #expect(tree.children(of: live.key).map(\.session) == [shown])
            let statistics = try await store.sessionStatistics(key: overdue.key)
            #expect(statistics.duration == .milliseconds(expiry.milliseconds - overdue.createdAt.milliseconds))
            await expectError(SessionStoreError.Code.sessionExpired) {
                try await store.isolatedSession(userId: "ada", sessionId: "nb-1")
            }

            let counts = try await store.metricsSnapshot().sessions.filter { $0.dataSource == "warehouse" }
            #expect(counts.reduce(0) { $0 + $1.count } == 1)
            #expect(counts.first { $0.state == .idle }?.count == 1)

            #expect(try test.snapshot() == stored, "a read of an overdue session wrote")
            #expect(try test.eventCount(kind: EventKind.sessionEnded) == 0)

            // The sweeper then ends it, once, as every reader already showed it.
            #expect(try await store.sweep().expiredSessions.keys == [overdue.key])
            #expect(try await store.sweep().expiredSessions.keys.isEmpty)
            #expect(try test.eventCount(kind: EventKind.sessionEnded) == 1)
            #expect(try await store.session(key: overdue.key)?.state == .expired)
        }
    }

    @Test(arguments: Backend.all)
    func reconnectAndGetOrCreateOpenANewSession(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let (overdue, _) = try await Self.overdueAndLive(test.clock, store)
            let stored = try test.snapshot()
            // Without reconnect, an expired session id is refused as before; nothing written.
            await expectError(SessionStoreError.Code.sessionClosed) {
                try await store.openSession(userId: "ada", sessionId: "nb-1")
            }
            #expect(try test.snapshot() == stored)

            let created = try await store.openIsolatedSession(userId: "ada", sessionId: "nb-1")
            #expect(created.key != overdue.key && created.isLive)
            #expect(try test.endedEventStates(key: overdue.key) == ["expired"])

            var request = OpenSessionRequest(userId: "ada", sessionId: "nb-3")
            request.timeout = .after(.milliseconds(Self.shortTimeout))
            let third = try await store.openSession(request)
            test.clock.advance(by: .milliseconds(2 * Self.shortTimeout))
            request.reconnect = true
            let reopened = try await store.openSession(request)
            #expect(reopened.key != third.key && reopened.isLive)
            #expect(try test.endedEventStates(key: third.key) == ["expired"])
            let ended = try await store.session(key: third.key)
            #expect(ended?.state == .expired && ended?.endReason == "expired")

            #expect(try await store.sweep().expiredSessions.keys.isEmpty)
            #expect(try test.eventCount(kind: EventKind.sessionEnded) == 2)

            // Swept or not, an expired session id gets a new session from get-or-create.
            let swept = try await store.openIsolatedSession(userId: "ada", sessionId: "nb-4")
            test.clock.advance(by: .seconds(2 * 3_600))
            #expect(try await store.sweep().expiredSessions.keys.contains(swept.key))
            let fresh = try await store.openIsolatedSession(userId: "ada", sessionId: "nb-4")
            #expect(fresh.key != swept.key && fresh.isLive)
        }
    }

    /// An active session (an attached execution running) past its expiry is spared by the
    /// sweeper under `runningSessionsDoNotExpire`: readers show it live, as the sweeper
    /// keeps it. Without that option it is expired like any other.
    @Test(arguments: Backend.all, [true, false])
    func anActiveSessionIsOverdueOnlyWhenTheSweeperWouldExpireIt(backend: Backend, spared: Bool) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.runningSessionsDoNotExpire = spared } body: { store in
            let session = try await store.openSession(userId: "ada", timeout: .after(.milliseconds(Self.shortTimeout)))
            let execution = try await store.createExecution(key: session.key)
            try await store.setExecutionStatus(key: session.key, operationId: execution.operationId, to: .started)
            #expect(try await store.session(key: session.key)?.state == .active)
            test.clock.advance(by: .milliseconds(2 * Self.shortTimeout))

            let shown = try #require(try await store.session(key: session.key)?.state)
            #expect(shown == (spared ? .active : .expired))
            #expect(try await store.listCurrentSessions().map(\.key) == (spared ? [session.key] : []))
            #expect(try await store.touch(key: session.key) == (spared ? .live : .expired))
            let report = try await store.sweep()
            #expect(report.expiredSessions.keys == (spared ? [] : [session.key]))
            #expect(try await store.session(key: session.key)?.state == shown)
        }
    }
}
