import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

/// `touch(keys:)`: many keys in one storage round, each answered in order as
/// `touch(key:)` answers it; only sessions whose bucket moves are written.
@Suite struct TouchBatchTests {
    /// Every session row's key, state, expiry and last access: what a touch may change.
    static func rows(_ test: TestStore) throws -> [String] {
        try test.inspect { db in
            try db.fetchAll(sql: "SELECT key, state, expire_at, last_access_at FROM sessions ORDER BY id") { row in
                "\(row.string(0)) \(row.string(1)) \(row.optionalInt64(2).map(String.init) ?? "NULL") \(row.int64(3))"
            }
        }
    }

    @Test func aMixedBatchIsAnsweredKeyByKeyAndWritesOnlyMovedBuckets() async throws {
        let test = TestStore()
        try await test.withStore { $0.tick = .milliseconds(1_000) } body: { store in
            let moving = try await store.openSession(userId: "ada", timeout: .after(.seconds(10)))
            let short = try await store.openSession(userId: "ada", timeout: .after(.seconds(1)))
            let closed = try await store.openSession(userId: "ada", timeout: .after(.seconds(10)))
            _ = try await store.closeSession(key: closed.key)
            let forever = try await store.openSession(userId: "bob", timeout: .never)
            let others = try await store.openSession(userId: "mallory", timeout: .after(.seconds(10)))
            // Past the short session's expiry (no sweeper runs) and into the next bucket.
            test.clock.advance(by: .milliseconds(2_500))
            let unknown = "01900000-0000-7000-8000-000000000000"
            let before = try Self.rows(test)

            let keys = [moving.key, short.key, closed.key, "not-a-key", unknown, forever.key, moving.key.uppercased(), ""]
            let answers = try await store.touch(keys: keys)
            #expect(answers.map(\.key) == keys)
            #expect(answers.map(\.result) == [.live, .expired, .closed, nil, .unknown, .live, .live, nil])
            #expect(answers[3].error?.code == .handleFormat)
            #expect(answers[7].error?.code == .handleFormat)
            let moved = roundUp(test.clock.now() + 10_000, 1_000)
            #expect(answers[0].expireAt?.milliseconds == moved)
            #expect(answers[6].expireAt?.milliseconds == moved, "the same session again in the batch: already moved")
            #expect(answers[5].expireAt == nil)

            // Only the live session whose bucket moved changed.
            let after = try Self.rows(test)
            #expect(after.count == before.count)
            let changed = zip(before, after).filter { $0 != $1 }.map(\.1)
            #expect(changed == ["\(moving.key) idle \(moved) \(test.clock.now())"])

            // Through a principal's view, another principal's key is unknown for that key alone.
            let view = try store.acting(as: "ada")
            let scoped = try await view.touch(keys: [others.key, moving.key])
            #expect(scoped.map(\.result) == [.unknown, .live])
            #expect(try Self.rows(test) == after, "nothing moved: the bucket of the second touch is the same")
        }
    }

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

    @Test func moreKeysThanTheMaximumAreRefusedAndNothingIsWritten() async throws {
        let test = TestStore()
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada", timeout: .after(.seconds(10)))
            test.clock.advance(by: .seconds(5))
            let before = try Self.rows(test)
            await expectError(.invalidLimit) {
                _ = try await store.touch(keys: Array(repeating: session.key, count: SessionStore.maxTouchBatch + 1))
            }
            #expect(try Self.rows(test) == before)
            #expect(try await store.touch(keys: []).isEmpty)
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
