import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

/// What only SQLite shows of expiry: a touch that does not move the bucket commits
/// nothing at all (the separate connection's `data_version` stays put). The behaviour
/// every backend shares is `ExpirySweepTests`'.
@Suite struct ExpirySweepSQLiteTests {
    static let tick: Int64 = ExpirySweepTests.tick
    static let timeout: Int64 = ExpirySweepTests.timeout

    /// A touch whose bucket does not move commits nothing; a touch that moves the bucket
    /// commits; a touch with the clock set back commits nothing.
    @Test func touchInTheSameBucketOrWithTheClockSetBackCommitsNothing() async throws {
        let test = TestStore()
        try await test.withStore { $0.tick = .milliseconds(Self.tick) } body: { store in
            test.clock.advance(by: .milliseconds(1))
            let session = try await store.openSession(userId: "ada", timeout: .after(.milliseconds(Self.timeout)))

            let commits = try CommitCounter(path: test.path)
            let before = try commits.version()

            // start+1 .. start+1000 all round to the same bucket: nothing is written.
            for step: Int64 in [0, 500, 499] {
                test.clock.advance(by: .milliseconds(step))
                #expect(try await store.touch(key: session.key) == .live)
            }
            #expect(test.clock.now() == TestStore.start + 1_000)
            #expect(try commits.version() == before, "a touch that did not move the bucket committed a write")

            // The next millisecond moves the bucket: one commit.
            test.clock.advance(by: .milliseconds(1))
            #expect(try await store.touch(key: session.key) == .live)
            let afterMove = try commits.version()
            #expect(afterMove != before, "a touch that moved the bucket did not commit")

            // The clock set back (a late or skewed touch): no commit.
            test.clock.set(TestStore.start - 30_000)
            #expect(try await store.touch(key: session.key) == .live)
            #expect(try commits.version() == afterMove, "a touch with an earlier clock committed a write")
        }
    }
}
