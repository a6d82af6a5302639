import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

/// Notifications of changes made by another process on the same SQLite file (the built
/// `sessionctl`). The behaviour every backend shares is `NotificationStreamTests`'.
@Suite struct NotificationStreamSQLiteTests {
    typealias Kit = NotificationKit

    /// Sessions opened and closed by another process (the built `sessionctl`) reach a
    /// subscriber in this process.
    @Test func notificationsIncludeSessionsOpenedAndClosedByAnotherProcess() async throws {
        let test = TestStore()
        try await test.withStore { store in
            _ = try await store.openSession(userId: "before", dataSource: "ds1")
            let starts = try await store.sessionStarts(dataSource: "ds1", pollInterval: .milliseconds(10))
            let stops = try await store.sessionStops(dataSource: "ds1", pollInterval: .milliseconds(10))
            let startsTask = Kit.collect(1, of: starts, within: .seconds(30))
            let stopsTask = Kit.collect(1, of: stops, within: .seconds(30))

            let opened = try await Self.sessionctl(["--db", test.path, "open", "--user", "u", "--data-source", "ds1", "--json"])
            #expect(opened.status == 0, "open: \(opened.stderr)")
            let object = try #require(try opened.json() as? [String: Any])
            let key = try #require(object["key"] as? String)
            #expect(object["dataSource"] as? String == "ds1")
            let closed = try await Self.sessionctl(["--db", test.path, "close", key, "--json"])
            #expect(closed.status == 0, "close: \(closed.stderr)")

            let started = try #require(try await startsTask.value, "the other process's start was not notified")
            #expect(started.map(\.sessionKey) == [key])
            #expect(started.first?.dataSource == "ds1")
            let stopped = try #require(try await stopsTask.value, "the other process's stop was not notified")
            #expect(stopped.map(\.sessionKey) == [key])
            #expect(started[0].seq < stopped[0].seq)
            #expect(try await store.session(key: key)?.state == .closed)
        }
    }

    static func sessionctl(_ arguments: [String]) async throws -> CommandResult {
        try await Sessionctl.run(arguments)
    }
}
