import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

/// Another process's commits on the same SQLite file reach this store's streams: the
/// follower notices them through `PRAGMA data_version`. The behaviour every backend
/// shares is `NotificationFollowerTests`'.
@Suite struct NotificationFollowerSQLiteTests {
    typealias Kit = NotificationKit

    /// A session opened by another process (the built `sessionctl`), which this store's
    /// writer never saw, reaches a stream: the follower noticed the other connection's
    /// commit.
    @Test func aCommitOfAnotherProcessReachesAStream() async throws {
        let test = TestStore()
        try await test.withStore { store in
            let start = try await store.latestEventSeq()
            let task = Kit.collect(1, of: store.events(from: start, kinds: [EventKind.sessionStarted]), within: .seconds(60))
            #expect(await NotificationFollowerTests.eventually { store.eventFollower.consumerCount == 1 })

            let opened = try await Sessionctl.run(["--db", test.path, "open", "--user", "elsewhere", "--json"])
            #expect(opened.status == 0, "open: \(opened.stderr)")
            let key = try #require((try opened.json() as? [String: Any])?["key"] as? String)

            let events = try #require(try await task.value, "the other process's commit did not reach the stream")
            #expect(events.map(\.sessionKey) == [key])
            #expect(events.first?.userId == "elsewhere")
        }
    }
}
