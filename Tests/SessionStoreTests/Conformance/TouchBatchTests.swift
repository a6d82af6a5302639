import Foundation
import SessionStore
import Testing

/// `touch(keys:)`: many keys in one storage round, each answered in order as
/// `touch(key:)` answers it; only sessions whose bucket moves are written.
@Suite struct TouchBatchTests {
    @Test(arguments: Backend.all)
    func aMixedBatchIsAnsweredKeyByKeyAndWritesOnlyMovedBuckets(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
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
            let before = try test.touchableRows()

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
            let after = try test.touchableRows()
            #expect(after.count == before.count)
            let changed = zip(before, after).filter { $0 != $1 }.map(\.1)
            #expect(changed == ["\(moving.key) idle \(moved) \(test.clock.now())"])

            // Through a principal's view, another principal's key is unknown for that key alone.
            let view = try store.acting(as: "ada")
            let scoped = try await view.touch(keys: [others.key, moving.key])
            #expect(scoped.map(\.result) == [.unknown, .live])
            #expect(try test.touchableRows() == after, "nothing moved: the bucket of the second touch is the same")
        }
    }

    @Test(arguments: Backend.all)
    func aBatchWithinTheBucketCommitsNothing(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.tick = .milliseconds(1_000) } body: { store in
            var keys: [String] = []
            for index in 0..<100 {
                keys.append(try await store.openSession(userId: "u\(index)", timeout: .after(.seconds(60))).key)
            }
            let before = try test.touchableRows()
            let answers = try await store.touch(keys: keys)
            #expect(answers.allSatisfy { $0.result == .live })
            #expect(try test.touchableRows() == before)

            test.clock.advance(by: .milliseconds(1_500))
            let moved = try await store.touch(keys: keys)
            let expireAt = roundUp(test.clock.now() + 60_000, 1_000)
            #expect(moved.allSatisfy { $0.expireAt?.milliseconds == expireAt })
            #expect(try test.touchableRows() == keys.map { "\($0) idle \(expireAt) \(test.clock.now())" })
        }
    }

    @Test(arguments: Backend.all)
    func moreKeysThanTheMaximumAreRefusedAndNothingIsWritten(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada", timeout: .after(.seconds(10)))
            test.clock.advance(by: .seconds(5))
            let before = try test.touchableRows()
            await expectError(.invalidLimit) {
                _ = try await store.touch(keys: Array(repeating: session.key, count: SessionStore.maxTouchBatch + 1))
            }
            #expect(try test.touchableRows() == before)
            #expect(try await store.touch(keys: []).isEmpty)
        }
    }
}
