import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

/// ZooKeeper's bucketed touch on SQLite: a touch within the bucket commits no
/// transaction at all (`PRAGMA data_version` stands still), one that moves the bucket
/// commits. The backend-neutral part of these tests, the stored expiry columns, runs on
/// every backend in `Conformance/SessionTouchTests`.
@Suite struct SessionTouchSQLiteTests {
    typealias Kit = SessionTestKit

    @Test func touchWithinTheBucketWritesNothingAndACrossingTouchMovesExpiryExactly() async throws {
        let test = TestStore()
        try await test.withStore { $0.tick = .milliseconds(1_000) } body: { store in
            // Start one millisecond past a tick so the bucket is [start+1, start+1000].
            test.clock.advance(by: .milliseconds(1))
            let opened = TestStore.start + 1
            let session = try await store.openSession(userId: "ada", timeout: .after(.milliseconds(10_000)))
            let firstBucket = roundUp(opened + 10_000, 1_000)
            #expect(firstBucket == TestStore.start + 11_000)
            #expect(session.expireAt?.milliseconds == firstBucket)
            #expect(try Kit.timing(test, key: session.key) == Kit.RowTiming(expireAt: firstBucket, lastAccessAt: opened))

            let watcher = try CommitCounter(path: test.path)
            let version = try watcher.version()

            // Same bucket: true, nothing written.
            test.clock.advance(by: .milliseconds(998))  // start + 999
            #expect(try await store.touch(key: session.key) == .live)
            test.clock.advance(by: .milliseconds(1))  // start + 1000: still roundUp(start + 11000) == start + 11000
            #expect(try await store.touch(key: session.key) == .live)
            #expect(try Kit.timing(test, key: session.key) == Kit.RowTiming(expireAt: firstBucket, lastAccessAt: opened))
            #expect(try watcher.version() == version, "a touch within the bucket committed a write")

            // Next bucket: expire_at = roundUp(now + timeout, tick) exactly.
            test.clock.advance(by: .milliseconds(1))  // start + 1001
            let now = TestStore.start + 1_001
            #expect(try await store.touch(key: session.key) == .live)
            let secondBucket = roundUp(now + 10_000, 1_000)
            #expect(secondBucket == TestStore.start + 12_000)
            #expect(try Kit.timing(test, key: session.key) == Kit.RowTiming(expireAt: secondBucket, lastAccessAt: now))
            let afterMove = try watcher.version()
            #expect(afterMove != version, "a touch that moved the bucket did not commit")
            #expect(try await store.session(key: session.key)?.expireAt?.milliseconds == secondBucket)

            // A late touch (clock set back) never moves expiry backwards and writes nothing.
            test.clock.set(TestStore.start - 5_000)
            #expect(try await store.touch(key: session.key) == .live)
            #expect(try Kit.timing(test, key: session.key) == Kit.RowTiming(expireAt: secondBucket, lastAccessAt: now))
            #expect(try watcher.version() == afterMove)

            // Just before the expiry: moves again, to the bucket of the new time.
            test.clock.set(TestStore.start + 11_500)
            #expect(try await store.touch(key: session.key) == .live)
            let thirdBucket = roundUp(TestStore.start + 21_500, 1_000)
            #expect(try Kit.timing(test, key: session.key) == Kit.RowTiming(expireAt: thirdBucket, lastAccessAt: TestStore.start + 11_500))

            // At or past the expiry the session is expired: the touch writes nothing.
            let beforeExpiry = try watcher.version()
            test.clock.set(thirdBucket)
            #expect(try await store.touch(key: session.key) == .expired)
            test.clock.set(TestStore.start + 100_500)
            #expect(try await store.touch(key: session.key) == .expired)
            #expect(try Kit.timing(test, key: session.key) == Kit.RowTiming(expireAt: thirdBucket, lastAccessAt: TestStore.start + 11_500))
            #expect(try watcher.version() == beforeExpiry)
        }
    }

    @Test func touchWithALargeTickGroupsManyTouchesIntoOneWrite() async throws {
        let test = TestStore()
        try await test.withStore { $0.tick = .milliseconds(60_000) } body: { store in
            let session = try await store.openSession(userId: "ada", timeout: .after(.milliseconds(120_000)))
            // The start is 20 s into a minute: the bucket ends 160 s later.
            let expireAt = roundUp(TestStore.start + 120_000, 60_000)
            #expect(expireAt == TestStore.start + 160_000)
            #expect(try Kit.timing(test, key: session.key)?.expireAt == expireAt)

            let watcher = try CommitCounter(path: test.path)
            let version = try watcher.version()
            for _ in 0..<20 {
                test.clock.advance(by: .milliseconds(1_000))
                #expect(try await store.touch(key: session.key) == .live)
            }
            #expect(try watcher.version() == version)
            #expect(try Kit.timing(test, key: session.key) == Kit.RowTiming(expireAt: expireAt, lastAccessAt: TestStore.start))
        }
    }

    @Test func touchOfANeverExpiringSessionIsTrueAndWritesNothing() async throws {
        let test = TestStore()
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada", timeout: .never)
            let watcher = try CommitCounter(path: test.path)
            let version = try watcher.version()
            test.clock.advance(by: .milliseconds(86_400_000))
            #expect(try await store.touch(key: session.key) == .live)
            #expect(try watcher.version() == version)
            #expect(try Kit.timing(test, key: session.key) == Kit.RowTiming(expireAt: nil, lastAccessAt: TestStore.start))
        }
    }
}
