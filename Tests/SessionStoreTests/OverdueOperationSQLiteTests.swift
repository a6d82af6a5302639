import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

/// What only SQLite shows of calls on an overdue session: once it has ended, a refused
/// call commits nothing at all (a separate connection's `data_version` stays put); and
/// `sessionctl`, another process on the file, answers the same. The behaviour every
/// backend shares is `OverdueOperationTests`'.
@Suite struct OverdueOperationSQLiteTests {
    typealias Kit = SessionTestKit
    typealias Overdue = OverdueOperationTests

    @Test func callsOnAnExpiredSessionCommitNothing() async throws {
        let test = TestStore()
        try await test.withStore { $0.runningSessionsDoNotExpire = false } body: { store in
            let (key, operationId, live) = try await Overdue.overdueOwner(test.clock, store)
            await expectError(SessionStoreError.Code.sessionExpired) { try await store.updateDetails(key: key, ["a": "1"]) }
            #expect(try await store.session(key: key)?.state == .expired)

            let watcher = try CommitCounter(path: test.path)
            let version = try watcher.version()
            for (name, call) in Overdue.calls(store, key: key, operationId: operationId, live: live) {
                let error = await expectError(SessionStoreError.Code.sessionExpired) { try await call() }
                #expect(error != nil, "\(name)")
            }
            #expect(try watcher.version() == version, "a call on an expired session committed a write")
        }
    }

    @Test func sessionctlTouchPrintsExpiredAndFailsWithSessionExpired() async throws {
        let test = TestStore(start: TestStore.realTime(offsetBy: -3_600))
        let (overdue, live) = try await test.withStore { store in
            (
                try await store.openSession(userId: "ada", dataSource: "ds1", timeout: .after(.milliseconds(1_000))),
                try await store.openSession(userId: "ada", dataSource: "ds2", timeout: .after(.seconds(2 * 86_400)))
            )
        }
        let timing = try Kit.timing(test, key: overdue.key)
        let cli = CLIDatabase(path: test.path)
        let text = try await cli.run(["touch", overdue.key])
        #expect(text.status == 1)
        #expect(text.stdout == "expired\n")
        #expect(text.stderr.hasPrefix("error: INVALID_HANDLE.SESSION_EXPIRED: "), "\(text.stderr)")
        let result = try await cli.run(["touch", overdue.key, "--json"])
        #expect(result.status == 1)
        #expect(result.error()?.code == "INVALID_HANDLE.SESSION_EXPIRED", "\(result.stderr)")
        let json = try #require(try result.json() as? [String: Any])
        #expect(json["result"] as? String == "expired")
        #expect(json["live"] as? Bool == false)
        #expect(try Kit.timing(test, key: overdue.key) == timing)
        #expect(try await cli.object(["get", overdue.key])["state"] as? String == "expired")
        #expect(CLIDatabase.keys(try await cli.array(["current"])) == [live.key])
        #expect(CLIDatabase.keys(try await cli.array(["current", "--data-source", "ds1"])) == [])
        #expect(try await cli.failure(["details", "set", overdue.key, "a=1"]) == "INVALID_HANDLE.SESSION_EXPIRED")
        #expect(try Kit.eventCount(test, kind: EventKind.sessionEnded) == 1)
    }
}
