import Foundation
import SessionStore
import Synchronization
import Testing

/// Expiry driven by the injected wall clock and direct `sweep()` calls (no sleeps):
/// `expireAt = roundUp(now + timeout, tick)`, bucketed touches, the running-session rule
/// and the one `session.ended` event.
@Suite struct ExpirySweepTests {
    typealias Timing = StoreFixture.SessionTiming
    static let tick: Int64 = 1_000
    static let timeout: Int64 = 10_000

    /// Opened at `start + offset`, the session expires in the first sweep at or after
    /// `roundUp(t + timeout, tick)` and not in a sweep one millisecond before it.
    @Test(arguments: Backend.all, [Int64(0), 1, 250, 999])
    func sessionExpiresInTheFirstSweepAtOrAfterItsRoundedExpiry(backend: Backend, offset: Int64) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.tick = .milliseconds(Self.tick) } body: { store in
            test.clock.advance(by: .milliseconds(offset))
            let openedAt = test.clock.now()
            #expect(openedAt == StoreFixture.start + offset)
            let session = try await store.openSession(userId: "ada", timeout: .after(.milliseconds(Self.timeout)))
            let expireAt = roundUp(openedAt + Self.timeout, Self.tick)
            #expect(expireAt == (offset == 0 ? StoreFixture.start + 10_000 : StoreFixture.start + 11_000))
            #expect(session.expireAt?.milliseconds == expireAt)
            #expect(try test.sessionTiming(key: session.key) == Timing(state: "idle", expireAt: expireAt, lastAccessAt: openedAt))

            // One millisecond early: not selected, not expired, row untouched.
            test.clock.set(expireAt - 1)
            let early = try await store.sweep()
            #expect(early.expiredSessions.isEmpty)
            #expect(early.rowsExamined == 0)
            #expect(try test.sessionTiming(key: session.key) == Timing(state: "idle", expireAt: expireAt, lastAccessAt: openedAt))
            #expect(try test.endedEventStates(key: session.key).isEmpty)

            // At the rounded expiry: expired in this sweep.
            test.clock.set(expireAt)
            let due = try await store.sweep()
            #expect(due.expiredSessions.keys == [session.key])
            #expect(due.rowsExamined == 1)
            #expect(due.rearmedSessions == 0)
            #expect(due.sparedActiveSessions == 0)
            #expect(
                try test.sessionTiming(key: session.key)
                    == Timing(state: "expired", expireAt: nil, lastAccessAt: openedAt, endedAt: expireAt))
            let ended = try #require(try await store.session(key: session.key))
            #expect(ended.state == .expired)
            #expect(ended.endedAt?.milliseconds == expireAt)
            #expect(ended.endReason == "expired")
            #expect(try test.endedEventStates(key: session.key) == ["expired"])

            // Later sweeps find nothing more and write no second event; touch reports it gone.
            test.clock.advance(by: .milliseconds(60_000))
            let later = try await store.sweep()
            #expect(later.expiredSessions.isEmpty)
            #expect(later.rowsExamined == 0)
            #expect(try test.endedEventStates(key: session.key) == ["expired"])
            #expect(try test.eventCount(kind: EventKind.sessionEnded) == 1)
            #expect(try await store.touch(key: session.key) == .expired)
        }
    }

    /// A touch whose bucket does not move writes nothing and leaves the row as it was; a
    /// touch that moves the bucket sets `roundUp(now + timeout, tick)`; a touch with the
    /// clock set back never moves expiry backwards. (That the first and last commit
    /// nothing at all is `ExpirySweepSQLiteTests`'.)
    @Test(arguments: Backend.all)
    func touchInTheSameBucketWritesNothingAndNeverMovesExpiryBack(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.tick = .milliseconds(Self.tick) } body: { store in
            test.clock.advance(by: .milliseconds(1))
            let openedAt = test.clock.now()
            let session = try await store.openSession(userId: "ada", timeout: .after(.milliseconds(Self.timeout)))
            let firstBucket = roundUp(openedAt + Self.timeout, Self.tick)
            #expect(firstBucket == StoreFixture.start + 11_000)

            let before = try test.snapshot()
            let rowBefore = try test.sessionTiming(key: session.key)
            #expect(rowBefore == Timing(state: "idle", expireAt: firstBucket, lastAccessAt: openedAt))

            // start+1 .. start+1000 all round to the same bucket: nothing is written.
            for step: Int64 in [0, 500, 499] {
                test.clock.advance(by: .milliseconds(step))
                #expect(try await store.touch(key: session.key) == .live)
            }
            #expect(test.clock.now() == StoreFixture.start + 1_000)
            #expect(try test.snapshot() == before, "a touch that did not move the bucket wrote")
            #expect(try test.sessionTiming(key: session.key) == rowBefore)

            // The next millisecond moves the bucket: written, the exact new expiry.
            test.clock.advance(by: .milliseconds(1))
            let movedAt = test.clock.now()
            #expect(try await store.touch(key: session.key) == .live)
            let secondBucket = roundUp(movedAt + Self.timeout, Self.tick)
            #expect(secondBucket == StoreFixture.start + 12_000)
            let afterMove = try test.snapshot()
            #expect(afterMove != before, "a touch that moved the bucket wrote nothing")
            #expect(try test.sessionTiming(key: session.key) == Timing(state: "idle", expireAt: secondBucket, lastAccessAt: movedAt))

            // The clock set back (a late or skewed touch): expiry and last access stay, nothing written.
            test.clock.set(StoreFixture.start - 30_000)
            #expect(try await store.touch(key: session.key) == .live)
            #expect(try test.sessionTiming(key: session.key) == Timing(state: "idle", expireAt: secondBucket, lastAccessAt: movedAt))
            #expect(try test.snapshot() == afterMove, "a touch with an earlier clock wrote")
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
    @Test(arguments: Backend.all)
    func sessionWithARunningAttachedExecutionDoesNotExpire(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.tick = .milliseconds(Self.tick) } body: { store in
            #expect(store.configuration.runningSessionsDoNotExpire)
            let session = try await store.openSession(userId: "ada", timeout: .after(.milliseconds(Self.timeout)))
            let execution = try await store.createExecution(key: session.key, statement: "select 1")
            try await store.setExecutionStatus(key: session.key, operationId: execution.operationId, to: .started)
            let expireAt = roundUp(StoreFixture.start + Self.timeout, Self.tick)
            #expect(try test.sessionTiming(key: session.key)?.state == "active")
            #expect(try test.sessionTiming(key: session.key)?.expireAt == expireAt)

            test.clock.set(expireAt + 500)
            let report = try await store.sweep()
            #expect(report.expiredSessions.isEmpty)
            #expect(report.sparedActiveSessions == 1)
            #expect(report.rowsExamined == 1)
            let pushed = roundUp(expireAt + 500 + Self.timeout, Self.tick)
            #expect(try test.sessionTiming(key: session.key)?.state == "active")
            #expect(try test.sessionTiming(key: session.key)?.expireAt == pushed)
            #expect(try test.executionStatus(operationId: execution.operationId) == "started")
            #expect(try test.endedEventStates(key: session.key).isEmpty)

            // Once the execution finishes, the session expires at its next due time.
            try await store.setExecutionStatus(key: session.key, operationId: execution.operationId, to: .finished)
            #expect(try test.sessionTiming(key: session.key)?.state == "idle")
            test.clock.set(pushed)
            let later = try await store.sweep()
            #expect(later.expiredSessions.keys == [session.key])
            #expect(later.sparedActiveSessions == 0)
            #expect(try test.endedEventStates(key: session.key) == ["expired"])
        }
    }

    /// With `runningSessionsDoNotExpire` off the same session expires and its running
    /// execution is canceled and closed, in the same transaction as the one `session.ended`
    /// event.
    @Test(arguments: Backend.all)
    func withTheRuleOffARunningSessionExpiresAndItsExecutionIsCanceled(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore {
            $0.tick = .milliseconds(Self.tick)
            $0.runningSessionsDoNotExpire = false
        } body: { store in
            let session = try await store.openSession(userId: "ada", timeout: .after(.milliseconds(Self.timeout)))
            let execution = try await store.createExecution(key: session.key, statement: "select 1")
            try await store.setExecutionStatus(key: session.key, operationId: execution.operationId, to: .started)
            #expect(try test.sessionTiming(key: session.key)?.state == "active")
            let expireAt = roundUp(StoreFixture.start + Self.timeout, Self.tick)

            test.clock.set(expireAt - 1)
            #expect(try await store.sweep().expiredSessions.isEmpty)
            test.clock.set(expireAt)
            let report = try await store.sweep()
            #expect(report.expiredSessions.keys == [session.key])
            #expect(report.sparedActiveSessions == 0)
            #expect(try test.sessionTiming(key: session.key)?.state == "expired")
            #expect(try test.executionStatus(operationId: execution.operationId) == "closed")
            #expect(try await store.execution(key: session.key, operationId: execution.operationId)?.status == .closed)
            let statusChanges = try test.payloads(
                kind: EventKind.executionStatus, where: ["operation_id": .text(execution.operationId)])
            #expect(statusChanges.filter { $0["to"] == "canceled" }.count == 1)
            #expect(try test.endedEventStates(key: session.key) == ["expired"])
            #expect(try test.endedEventStates(key: session.key).filter { $0 == "expired" }.count == 1)
        }
    }

    /// The rule is about attached executions: a running execution whose client detached
    /// does not keep the session alive.
    @Test(arguments: Backend.all)
    func aDetachedRunningExecutionDoesNotSpareTheSession(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.tick = .milliseconds(Self.tick) } body: { store in
            let session = try await store.openSession(userId: "ada", timeout: .after(.milliseconds(Self.timeout)))
            let execution = try await store.createExecution(key: session.key, reattachable: true)
            try await store.detachExecution(key: session.key, operationId: execution.operationId)
            #expect(try test.sessionTiming(key: session.key)?.state == "idle")
            let expireAt = roundUp(StoreFixture.start + Self.timeout, Self.tick)
            test.clock.set(expireAt)
            let report = try await store.sweep()
            #expect(report.expiredSessions.keys == [session.key])
            #expect(report.sparedActiveSessions == 0)
            #expect(try test.executionStatus(operationId: execution.operationId) == "closed")
            #expect(try test.endedEventStates(key: session.key) == ["expired"])
        }
    }

    /// Sweeping in batches: each batch is its own transaction, the pause runs between
    /// full batches, and every due session is expired exactly once.
    @Test(arguments: Backend.all)
    func sweepWorksInBatchesAndPausesBetweenThem(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
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
                #expect(try test.sessionTiming(key: key)?.state == "idle")
            }
            #expect(try test.eventCount(kind: EventKind.sessionEnded) == 12)
        }
    }

    /// A pass that expires more sessions than a report keeps keys for counts every one
    /// and keeps the first keys only, so its memory does not grow with what was due; the
    /// event log has them all.
    @Test(arguments: Backend.all)
    func aLargePassCountsEverySessionButKeepsOnlyTheFirstKeys(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
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
            #expect(try test.eventCount(kind: EventKind.sessionEnded) == total)
            #expect(try test.inspector.count("sessions", where: ["state": "expired"]) == total)
        }
    }

    /// A session that never expires is never selected by the sweep.
    @Test(arguments: Backend.all)
    func aSessionThatNeverExpiresIsNeverSwept(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.tick = .milliseconds(Self.tick) } body: { store in
            let session = try await store.openSession(userId: "ada", timeout: .never)
            #expect(session.expireAt == nil)
            test.clock.advance(by: .milliseconds(365 * 86_400_000))
            let report = try await store.sweep()
            #expect(report.expiredSessions.isEmpty)
            #expect(report.rowsExamined == 0)
            #expect(try test.sessionTiming(key: session.key)?.state == "idle")
        }
    }
}
