import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

/// `touch(keys:)` on SQLite: a batch within the bucket commits no transaction at all
/// (`PRAGMA data_version` stands still). The stored columns of the same batch are checked
/// on every backend in `Conformance/TouchBatchTests`.
@Suite struct TouchBatchSQLiteTests {
    @Test func aBatchWithinTheBucketCommitsNothing() async throws {
        let test = TestStore()
        try await test.withStore { $0.tick = .milliseconds(1_000) } body: { store in
            var keys: [String] = []
            for index in 0..<100 {
                keys.append(try await store.openSession(userId: "u\(index)", timeout: .after(.seconds(60))).key)
            }
            let watcher = try CommitCounter(path: test.path)
            let version = try watcher.version()
            let answers = try await store.touch(keys: keys)
            #expect(answers.allSatisfy { $0.result == .live })
            #expect(try watcher.version() == version)

            test.clock.advance(by: .milliseconds(1_500))
            let moved = try await store.touch(keys: keys)
            #expect(moved.allSatisfy { $0.expireAt?.milliseconds == roundUp(test.clock.now() + 60_000, 1_000) })
            #expect(try watcher.version() != version)
        }
    }
}

/// `sessionctl touch KEY…`: several keys in one round, a line each in order.
@Suite struct TouchBatchCLITests {
    @Test func severalKeysAreTouchedInOrderAndAnyNotLiveFails() async throws {
        let database = CLIDatabase()
        let live = try await database.open(["--user", "ada"])
        let closed = try await database.open(["--user", "bob"])
        #expect(try await database.run(["close", closed]).status == 0)
        let unknown = "01900000-0000-7000-8000-000000000000"

        let allLive = try await database.run(["touch", live, live])
        #expect(allLive.status == 0, "\(allLive.stderr)")
        #expect(allLive.stdout == "\(live) live\n\(live) live\n")

        let mixed = try await database.run(["touch", live, closed, "not-a-key", unknown])
        #expect(mixed.status == 1)
        #expect(mixed.stdout == "\(live) live\n\(closed) closed\nnot-a-key invalid\n\(unknown) unknown\n")
        // Text error lines: "error: CODE: message", one per key not live, in order.
        let codes = mixed.stderr.split(separator: "\n").map { $0.split(separator: " ").dropFirst().first.map { String($0.dropLast()) } }
        #expect(codes == ["INVALID_HANDLE.SESSION_CLOSED", "INVALID_HANDLE.FORMAT", "INVALID_HANDLE.SESSION_NOT_FOUND"], "\(mixed.stderr)")

        let json = try await database.run(["touch", live, closed, "not-a-key", "--json"])
        #expect(json.status == 1)
        let objects = try json.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(objects.map { $0["key"] as? String } == [live, closed, "not-a-key"])
        #expect(objects.map { $0["result"] as? String } == ["live", "closed", "invalid"])

        #expect(try await database.run(["touch"] + Array(repeating: live, count: 1001)).status == 64)
    }
}
