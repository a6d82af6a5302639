import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

/// What only SQLite shows of an overdue session: the `sqlite3` views leave it out on the
/// real clock, and a touch, a read or a refused open of it commits nothing at all (a
/// separate connection's `data_version` stays put). The behaviour every backend shares is
/// `OverdueSessionTests`'.
@Suite struct OverdueSessionSQLiteTests {
    typealias Overdue = OverdueSessionTests

    /// A store file whose clock starts an hour behind the real clock, so a session with a
    /// short timeout is overdue for the `sqlite3` views and `sessionctl` too, and one with
    /// a long timeout is not.
    static func pastTest() -> TestStore { TestStore(start: TestStore.realTime(offsetBy: -3_600)) }

    @Test func touchOfAnOverdueSessionCommitsNothing() async throws {
        let test = Self.pastTest()
        try await test.withStore { store in
            let (overdue, _) = try await Overdue.overdueAndLive(test.clock, store)
            let watcher = try CommitCounter(path: test.path)
            let version = try watcher.version()
            #expect(try await store.touch(key: overdue.key) == .expired)
            #expect(try watcher.version() == version, "a touch of an overdue session committed a write")
        }
    }

    @Test func readsOfAnOverdueSessionCommitNothing() async throws {
        let test = Self.pastTest()
        try await test.withStore { store in
            let (overdue, live) = try await Overdue.overdueAndLive(test.clock, store)
            let watcher = try CommitCounter(path: test.path)
            let version = try watcher.version()

            #expect(try await store.session(key: overdue.key)?.state == .expired)
            for filter in [
                SessionFilter(states: .live), SessionFilter(states: .live, userId: "ada"),
                SessionFilter(states: .live, dataSource: "warehouse"), SessionFilter(states: .only(.idle)),
                SessionFilter(states: .ended), SessionFilter(states: .only(.expired), userId: "ada"),
                SessionFilter(states: .live, limit: 1), SessionFilter(states: .all),
            ] {
                _ = try await store.listSessions(filter)
            }
            #expect(try await store.listCurrentSessions().map(\.key) == [live.key])
            _ = try await store.listCurrentSessions(dataSource: "warehouse")
            #expect(try await store.listChildren(key: live.key).map(\.state) == [.expired])
            _ = try await store.listParents(key: overdue.key)
            _ = try await store.sessionTree(key: live.key)
            _ = try await store.sessionStatistics(key: overdue.key)
            await expectError(SessionStoreError.Code.sessionExpired) {
                try await store.isolatedSession(userId: "ada", sessionId: "nb-1")
            }
            _ = try await store.metricsSnapshot()

            #expect(try watcher.version() == version, "a read of an overdue session committed a write")
        }
    }

    @Test func aRefusedOpenOfAnExpiredSessionIdCommitsNothing() async throws {
        let test = Self.pastTest()
        try await test.withStore { store in
            _ = try await Overdue.overdueAndLive(test.clock, store)
            let watcher = try CommitCounter(path: test.path)
            let version = try watcher.version()
            // Without reconnect, an expired session id is refused as before; nothing written.
            await expectError(SessionStoreError.Code.sessionClosed) {
                try await store.openSession(userId: "ada", sessionId: "nb-1")
            }
            #expect(try watcher.version() == version)
        }
    }

    @Test
    func theViewsLeaveItOutOnTheRealClock() async throws {
        let test = Self.pastTest()
        let (overdue, live) = try await test.withStore { store in try await Overdue.overdueAndLive(test.clock, store) }
        let liveSessions = try await SQLiteShell.rows(test.path, "SELECT key FROM live_sessions")
        #expect(liveSessions == [live.key])
        #expect(try await SQLiteShell.rows(test.path, "SELECT live, idle, ended FROM user_session_counts WHERE user_id = 'ada'") == ["1|1|1"])
        #expect(try await SQLiteShell.rows(test.path, "SELECT parent_state, child_key, child_state FROM session_tree") == ["idle|\(overdue.key)|expired"])
        #expect(try await SQLiteShell.rows(test.path, "SELECT count(*) FROM sessions WHERE state = 'idle'") == ["2"])
    }
}
