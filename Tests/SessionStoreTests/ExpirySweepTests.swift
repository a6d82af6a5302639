import Foundation
import SessionStore
import SessionStoreSQLite
import Synchronization
import Testing

/// Expiry driven by the injected wall clock and direct `sweep()` calls (no sleeps):
/// `expireAt = roundUp(now + timeout, tick)`, bucketed touches, the running-session rule
/// and the one `session.ended` event.
@Suite struct ExpirySweepTests {
    typealias Kit = ExpiryKit
    static let tick: Int64 = 1_000
    static let timeout: Int64 = 10_000

    /// Opened at `start + offset`, the session expires in the first sweep at or after
    /// `roundUp(t + timeout, tick)` and not in a sweep one millisecond before it.
    @Test(arguments: [Int64(0), 1, 250, 999])
    func sessionExpiresInTheFirstSweepAtOrAfterItsRoundedExpiry(offset: Int64) async throws {
        let test = TestStore()
        try await test.withStore { $0.tick = .milliseconds(Self.tick) } body: { store in
            test.clock.advance(by: .milliseconds(offset))
            let openedAt = test.clock.now()
            #expect(openedAt == TestStore.start + offset)
            let session = try await store.openSession(userId: "ada", timeout: .after(.milliseconds(Self.timeout)))
            let expireAt = roundUp(openedAt + Self.timeout, Self.tick)
            #expect(expireAt == (offset == 0 ? TestStore.start + 10_000 : TestStore.start + 11_000))
            #expect(session.expireAt?.milliseconds == expireAt)
            #expect(try Kit.timing(test, key: session.key) == Kit.Timing(state: "idle", expireAt: expireAt, lastAccessAt: openedAt))

            // One millisecond early: not selected, not expired, row untouched.
            test.clock.set(expireAt - 1)
            let early = try await store.sweep()
            #expect(early.expiredSessions.isEmpty)
            #expect(early.rowsExamined == 0)
            #expect(try Kit.timing(test, key: session.key) == Kit.Timing(state: "idle", expireAt: expireAt, lastAccessAt: openedAt))
            #expect(try Kit.endedEventStates(test, key: session.key).isEmpty)

            // At the rounded expiry: expired in this sweep.
            test.clock.set(expireAt)
            let due = try await store.sweep()
            #expect(due.expiredSessions.keys == [session.key])
            #expect(due.rowsExamined == 1)
            #expect(due.rearmedSessions == 0)
            #expect(due.sparedActiveSessions == 0)
            #expect(
                try Kit.timing(test, key: session.key)
                    == Kit.Timing(state: "expired", expireAt: nil, lastAccessAt: openedAt, endedAt: expireAt))
            let ended = try #require(try await store.session(key: session.key))
            #expect(ended.state == .expired)
            #expect(ended.endedAt?.milliseconds == expireAt)
            #expect(ended.endReason == "expired")
            #expect(try Kit.endedEventStates(test, key: session.key) == ["expired"])

            // Later sweeps find nothing more and write no second event; touch reports it gone.
            test.clock.advance(by: .milliseconds(60_000))
            let later = try await store.sweep()
            #expect(later.expiredSessions.isEmpty)
            #expect(later.rowsExamined == 0)
            #expect(try Kit.endedEventStates(test, key: session.key) == ["expired"])
            #expect(try test.count("SELECT count(*) FROM events WHERE kind = 'session.ended'") == 1)
            #expect(try await store.touch(key: session.key) == .expired)
        }
    }

    /// A touch whose bucket does not move commits nothing (the separate connection's
    /// `data_version` stays put) and leaves the row as it was; a touch that moves the
    /// bucket commits and sets `roundUp(now + timeout, tick)`; a touch with the clock set
    /// back never moves expiry backwards.
    @Test func touchInTheSameBucketWritesNothingAndNeverMovesExpiryBack() async throws {
        let test = TestStore()
        try await test.withStore { $0.tick = .milliseconds(Self.tick) } body: { store in
            test.clock.advance(by: .milliseconds(1))
            let openedAt = test.clock.now()
            let session = try await store.openSession(userId: "ada", timeout: .after(.milliseconds(Self.timeout)))
            let firstBucket = roundUp(openedAt + Self.timeout, Self.tick)
            #expect(firstBucket == TestStore.start + 11_000)

            let commits = try CommitCounter(path: test.path)
            let before = try commits.version()
            let rowBefore = try Kit.timing(test, key: session.key)
            #expect(rowBefore == Kit.Timing(state: "idle", expireAt: firstBucket, lastAccessAt: openedAt))

            // start+1 .. start+1000 all round to the same bucket: nothing is written.
            for step: Int64 in [0, 500, 499] {
                test.clock.advance(by: .milliseconds(step))
                #expect(try await store.touch(key: session.key) == .live)
            }
            #expect(test.clock.now() == TestStore.start + 1_000)
            #expect(try commits.version() == before, "a touch that did not move the bucket committed a write")
            #expect(try Kit.timing(test, key: session.key) == rowBefore)

            // The next millisecond moves the bucket: one commit, the exact new expiry.
            test.clock.advance(by: .milliseconds(1))
            let movedAt = test.clock.now()
            #expect(try await store.touch(key: session.key) == .live)
            let secondBucket = roundUp(movedAt + Self.timeout, Self.tick)
            #expect(secondBucket == TestStore.start + 12_000)
            let afterMove = try commits.version()
            #expect(afterMove != before, "a touch that moved the bucket did not commit")
            #expect(try Kit.timing(test, key: session.key) == Kit.Timing(state: "idle", expireAt: secondBucket, lastAccessAt: movedAt))

            // The clock set back (a late or skewed touch): expiry and last access stay, no commit.
            test.clock.set(TestStore.start - 30_000)
            #expect(try await store.touch(key: session.key) == .live)
            #expect(try Kit.timing(test, key: session.key) == Kit.Timing(state: "idle", expireAt: secondBucket, lastAccessAt: movedAt))
            #expect(try commits.version() == afterMove, "a touch with an earlier clock committed a write")
            #expect(try await store.session(key: session.key)?.expireAt?.milliseconds == secondBucket)

            // Still expires at the later bucket, not the earlier one.
            test.clock.set(firstBucket)
            #expect(try await store.sweep().expiredSessions.isEmpty)
            test.clock.set(secondBucket)
            #expect(try await store.sweep().expiredSessions.keys == [session.key])
        }
    }

    /// Hive's rule, on by default: a due session with an attached running execution is
    /// spared and given a full timeout from now.
    @Test func sessionWithARunningAttachedExecutionDoesNotExpire() async throws {
        let test = TestStore()
        try await test.withStore { $0.tick = .milliseconds(Self.tick) } body: { store in
            #expect(store.configuration.runningSessionsDoNotExpire)
            let session = try await store.openSession(userId: "ada", timeout: .after(.milliseconds(Self.timeout)))
            let execution = try await store.createExecution(key: session.key, statement: "SELECT 1")
            try await store.setExecutionStatus(key: session.key, operationId: execution.operationId, to: .started)
            let expireAt = roundUp(TestStore.start + Self.timeout, Self.tick)
            #expect(try Kit.timing(test, key: session.key)?.state == "active")
            #expect(try Kit.timing(test, key: session.key)?.expireAt == expireAt)

            test.clock.set(expireAt + 500)
            let report = try await store.sweep()
            #expect(report.expiredSessions.isEmpty)
            #expect(report.sparedActiveSessions == 1)
            #expect(report.rowsExamined == 1)
            let pushed = roundUp(expireAt + 500 + Self.timeout, Self.tick)
            #expect(try Kit.timing(test, key: session.key)?.state == "active")
            #expect(try Kit.timing(test, key: session.key)?.expireAt == pushed)
            #expect(try Kit.executionStatus(test, operationId: execution.operationId) == "started")
            #expect(try Kit.endedEventStates(test, key: session.key).isEmpty)

            // Once the execution finishes, the session expires at its next due time.
            try await store.setExecutionStatus(key: session.key, operationId: execution.operationId, to: .finished)
            #expect(try Kit.timing(test, key: session.key)?.state == "idle")
            test.clock.set(pushed)
            let later = try await store.sweep()
            #expect(later.expiredSessions.keys == [session.key])
            #expect(later.sparedActiveSessions == 0)
            #expect(try Kit.endedEventStates(test, key: session.key) == ["expired"])
        }
    }

    /// With `runningSessionsDoNotExpire` off the same session expires and its running
    /// execution is canceled and closed, in the same transaction as the one `session.ended`
    /// event.
    @Test func withTheRuleOffARunningSessionExpiresAndItsExecutionIsCanceled() async throws {
        let test = TestStore()
        try await test.withStore {
            $0.tick = .milliseconds(Self.tick)
            $0.runningSessionsDoNotExpire = false
        } body: { store in
            let session = try await store.openSession(userId: "ada", timeout: .after(.milliseconds(Self.timeout)))
            let execution = try await store.createExecution(key: session.key, statement: "SELECT 1")
            try await store.setExecutionStatus(key: session.key, operationId: execution.operationId, to: .started)
            #expect(try Kit.timing(test, key: session.key)?.state == "active")
            let expireAt = roundUp(TestStore.start + Self.timeout, Self.tick)

            test.clock.set(expireAt - 1)
            #expect(try await store.sweep().expiredSessions.isEmpty)
            test.clock.set(expireAt)
            let report = try await store.sweep()
            #expect(report.expiredSessions.keys == [session.key])
            #expect(report.sparedActiveSessions == 0)
            #expect(try Kit.timing(test, key: session.key)?.state == "expired")
            #expect(try Kit.executionStatus(test, operationId: execution.operationId) == "closed")
            #expect(try await store.execution(key: session.key, operationId: execution.operationId)?.status == .closed)
            #expect(
                try test.count(
                    "SELECT count(*) FROM events WHERE kind = 'execution.status_changed' AND operation_id = ? AND json_extract(payload, '$.to') = 'canceled'",
                    [.text(execution.operationId)]) == 1)
            #expect(try Kit.endedEventStates(test, key: session.key) == ["expired"])
            #expect(
                try test.count(
                    "SELECT count(*) FROM events WHERE kind = 'session.ended' AND session_key = ? AND json_extract(payload, '$.state') = 'expired'",
                    [.text(session.key)]) == 1)
        }
    }

    /// The rule is about attached executions: a running execution whose client detached
    /// does not keep the session alive.
    @Test func aDetachedRunningExecutionDoesNotSpareTheSession() async throws {
        let test = TestStore()
        try await test.withStore { $0.tick = .milliseconds(Self.tick) } body: { store in
            let session = try await store.openSession(userId: "ada", timeout: .after(.milliseconds(Self.timeout)))
            let execution = try await store.createExecution(key: session.key, reattachable: true)
            try await store.detachExecution(key: session.key, operationId: execution.operationId)
            #expect(try Kit.timing(test, key: session.key)?.state == "idle")
            let expireAt = roundUp(TestStore.start + Self.timeout, Self.tick)
            test.clock.set(expireAt)
            let report = try await store.sweep()
            #expect(report.expiredSessions.keys == [session.key])
            #expect(report.sparedActiveSessions == 0)
            #expect(try Kit.executionStatus(test, operationId: execution.operationId) == "closed")
            #expect(try Kit.endedEventStates(test, key: session.key) == ["expired"])
        }
    }

    /// Sweeping in batches: each batch is its own transaction, the pause runs between
    /// full batches, and every due session is expired exactly once.
    @Test func sweepWorksInBatchesAndPausesBetweenThem() async throws {
        let test = TestStore()
        try await test.withStore {
            $0.tick = .milliseconds(Self.tick)
            $0.sweepBatchSize = 5
        } body: { store in
            var due: [String] = []
            for index in 0..<12 {
                due.append(try await store.openSession(userId: "due-\(index)", timeout: .after(.milliseconds(Self.timeout))).key)
            }
            var notDue: [String] = []
            for index in 0..<3 {
                notDue.append(try await store.openSession(userId: "later-\(index)", timeout: .after(.milliseconds(5 * Self.timeout))).key)
            }
            test.clock.advance(by: .milliseconds(Self.timeout))
            let pauses = ExpiryKit.Counter()
            let report = try await store.sweep(pause: { pauses.increment() })
            #expect(report.expiredSessions.count == 12)
            #expect(Set(report.expiredSessions.keys) == Set(due))
            #expect(report.rowsExamined == 12)
            #expect(pauses.value == 2)
            for key in notDue {
                #expect(try Kit.timing(test, key: key)?.state == "idle")
            }
            #expect(try test.count("SELECT count(*) FROM events WHERE kind = 'session.ended'") == 12)
        }
    }

    /// A pass that expires more sessions than a report keeps keys for counts every one
    /// and keeps the first keys only, so its memory does not grow with what was due; the
    /// event log has them all.
    @Test func aLargePassCountsEverySessionButKeepsOnlyTheFirstKeys() async throws {
        let test = TestStore()
        try await test.withStore { $0.tick = .milliseconds(Self.tick) } body: { store in
            let total = KeySample.limit + 5
            let opened = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<total {
                    group.addTask {
                        try await store.openSession(userId: "user-\(index % 10)", timeout: .after(.milliseconds(Self.timeout))).key
                    }
                }
                var keys: Set<String> = []
                for try await key in group { keys.insert(key) }
                return keys
            }
            test.clock.advance(by: .milliseconds(Self.timeout))
            let report = try await store.sweep()
            #expect(report.expiredSessions.count == total)
            #expect(report.expiredSessions.keys.count == KeySample.limit)
            #expect(!report.expiredSessions.isComplete)
            #expect(Set(report.expiredSessions.keys).count == KeySample.limit)
            #expect(Set(report.expiredSessions.keys).isSubset(of: opened))
            #expect(try test.count("SELECT count(*) FROM events WHERE kind = 'session.ended'") == total)
            #expect(try test.count("SELECT count(*) FROM sessions WHERE state = 'expired'") == total)
        }
    }

    /// A session that never expires is never selected by the sweep.
    @Test func aSessionThatNeverExpiresIsNeverSwept() async throws {
        let test = TestStore()
        try await test.withStore { $0.tick = .milliseconds(Self.tick) } body: { store in
            let session = try await store.openSession(userId: "ada", timeout: .never)
            #expect(session.expireAt == nil)
            test.clock.advance(by: .milliseconds(365 * 86_400_000))
            let report = try await store.sweep()
            #expect(report.expiredSessions.isEmpty)
            #expect(report.rowsExamined == 0)
            #expect(try Kit.timing(test, key: session.key)?.state == "idle")
        }
    }
}
