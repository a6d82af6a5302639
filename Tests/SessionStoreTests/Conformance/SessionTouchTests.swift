import Foundation
import SessionStore
import Testing

/// ZooKeeper's bucketed touch: expiry moves only when `roundUp(now + timeout, tick)`
/// moves, writes nothing otherwise, and never moves backwards. Here "nothing written" is
/// read in the stored columns; that no transaction commits at all is SQLite's to show
/// (`SessionTouchSQLiteTests`, through `data_version`).
@Suite struct SessionTouchTests {
    @Test(arguments: Backend.all)
    func touchWithinTheBucketWritesNothingAndACrossingTouchMovesExpiryExactly(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.tick = .milliseconds(1_000) } body: { store in
            // Start one millisecond past a tick so the bucket is [start+1, start+1000].
            test.clock.advance(by: .milliseconds(1))
            let opened = StoreFixture.start + 1
            let session = try await store.openSession(userId: "ada", timeout: .after(.milliseconds(10_000)))
            let firstBucket = roundUp(opened + 10_000, 1_000)
            #expect(firstBucket == StoreFixture.start + 11_000)
            #expect(session.expireAt?.milliseconds == firstBucket)
            #expect(try test.timing(key: session.key) == StoreFixture.RowTiming(expireAt: firstBucket, lastAccessAt: opened))

            // Same bucket: true, nothing written.
            test.clock.advance(by: .milliseconds(998))  // start + 999
            #expect(try await store.touch(key: session.key) == .live)
            test.clock.advance(by: .milliseconds(1))  // start + 1000: still roundUp(start + 11000) == start + 11000
            #expect(try await store.touch(key: session.key) == .live)
            #expect(try test.timing(key: session.key) == StoreFixture.RowTiming(expireAt: firstBucket, lastAccessAt: opened))

            // Next bucket: expire_at = roundUp(now + timeout, tick) exactly.
            test.clock.advance(by: .milliseconds(1))  // start + 1001
            let now = StoreFixture.start + 1_001
            #expect(try await store.touch(key: session.key) == .live)
            let secondBucket = roundUp(now + 10_000, 1_000)
            #expect(secondBucket == StoreFixture.start + 12_000)
            #expect(try test.timing(key: session.key) == StoreFixture.RowTiming(expireAt: secondBucket, lastAccessAt: now))
            #expect(try await store.session(key: session.key)?.expireAt?.milliseconds == secondBucket)

            // A late touch (clock set back) never moves expiry backwards and writes nothing.
            test.clock.set(StoreFixture.start - 5_000)
            #expect(try await store.touch(key: session.key) == .live)
            #expect(try test.timing(key: session.key) == StoreFixture.RowTiming(expireAt: secondBucket, lastAccessAt: now))

            // Just before the expiry: moves again, to the bucket of the new time.
            test.clock.set(StoreFixture.start + 11_500)
            #expect(try await store.touch(key: session.key) == .live)
            let thirdBucket = roundUp(StoreFixture.start + 21_500, 1_000)
            #expect(try test.timing(key: session.key) == StoreFixture.RowTiming(expireAt: thirdBucket, lastAccessAt: StoreFixture.start + 11_500))

            // At or past the expiry the session is expired: the touch writes nothing.
            test.clock.set(thirdBucket)
            #expect(try await store.touch(key: session.key) == .expired)
            test.clock.set(StoreFixture.start + 100_500)
            #expect(try await store.touch(key: session.key) == .expired)
            #expect(try test.timing(key: session.key) == StoreFixture.RowTiming(expireAt: thirdBucket, lastAccessAt: StoreFixture.start + 11_500))
        }
    }

    @Test(arguments: Backend.all)
    func touchWithALargeTickGroupsManyTouchesIntoOneWrite(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.tick = .milliseconds(60_000) } body: { store in
            let session = try await store.openSession(userId: "ada", timeout: .after(.milliseconds(120_000)))
            // The start is 20 s into a minute: the bucket ends 160 s later.
            let expireAt = roundUp(StoreFixture.start + 120_000, 60_000)
            #expect(expireAt == StoreFixture.start + 160_000)
            #expect(try test.timing(key: session.key)?.expireAt == expireAt)

            for _ in 0..<20 {
                test.clock.advance(by: .milliseconds(1_000))
                #expect(try await store.touch(key: session.key) == .live)
            }
            #expect(try test.timing(key: session.key) == StoreFixture.RowTiming(expireAt: expireAt, lastAccessAt: StoreFixture.start))
        }
    }

    @Test(arguments: Backend.all)
    func touchOfANeverExpiringSessionIsTrueAndWritesNothing(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada", timeout: .never)
            test.clock.advance(by: .milliseconds(86_400_000))
            #expect(try await store.touch(key: session.key) == .live)
            #expect(try test.timing(key: session.key) == StoreFixture.RowTiming(expireAt: nil, lastAccessAt: StoreFixture.start))
        }
    }

    @Test(arguments: Backend.all)
    func anySuccessfulAccessCountsAsATouch(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada", timeout: .after(.milliseconds(10_000)))

            test.clock.advance(by: .milliseconds(3_000))
            try await store.updateDetails(key: session.key, ["a": "1"])
            #expect(
                try test.timing(key: session.key)
                    == StoreFixture.RowTiming(expireAt: StoreFixture.start + 13_000, lastAccessAt: StoreFixture.start + 3_000))

            test.clock.advance(by: .milliseconds(3_000))
            try await store.setConfig(key: session.key, ["c": "1"])
            #expect(try test.timing(key: session.key)?.expireAt == StoreFixture.start + 16_000)

            test.clock.advance(by: .milliseconds(3_000))
            try await store.updateIdentifier(key: session.key, "id-1")
            #expect(try test.timing(key: session.key)?.expireAt == StoreFixture.start + 19_000)

            test.clock.advance(by: .milliseconds(3_000))
            try await store.removeDetails(key: session.key, names: ["a"])
            #expect(
                try test.timing(key: session.key)
                    == StoreFixture.RowTiming(expireAt: StoreFixture.start + 22_000, lastAccessAt: StoreFixture.start + 12_000))

            // A late access never moves expiry back.
            test.clock.set(StoreFixture.start)
            try await store.updateDetails(key: session.key, ["b": "2"])
            #expect(
                try test.timing(key: session.key)
                    == StoreFixture.RowTiming(expireAt: StoreFixture.start + 22_000, lastAccessAt: StoreFixture.start + 12_000))
        }
    }
}
