import Foundation
import SessionStore
import Testing

/// Recovery on open, in-process: a dead instance is simulated by an `instances` row on
/// this host with a pid no process can have, owning the running executions.
@Suite struct ExpiryRecoveryTests {
    static let tick: Int64 = 1_000
    static let timeout: Int64 = 10_000

    /// What the crashed process left behind.
    struct Crash {
        let test: StoreFixture
        /// A session whose non-reattachable execution was running.
        let failing: (key: String, operationId: String)
        /// A session whose reattachable execution was running.
        let detaching: (key: String, operationId: String)
        /// A session with nothing running.
        let plain: String
        let fakeInstance: Int64
        var keys: [String] { [failing.key, detaching.key, plain] }
    }

    /// Sessions and running executions written by a store that is then closed; its
    /// executions are handed to a fake instance that is dead, and the clock is moved past
    /// every session's expiry, as if the process had crashed and restarted later.
    static func crash(_ backend: Backend) async throws -> Crash {
        let test = try await StoreFixture(backend)
        let (failing, detaching, plain, failingExecution, detachingExecution) = try await test.withStore { $0.tick = .milliseconds(tick) } body: { store in
            let failing = try await store.openSession(userId: "ada", timeout: .after(.milliseconds(timeout)))
            let detaching = try await store.openSession(userId: "bob", timeout: .after(.milliseconds(timeout)))
            let plain = try await store.openSession(userId: "cy", timeout: .after(.milliseconds(timeout)))
            let failingExecution = try await store.createExecution(key: failing.key, statement: "select 1")
            try await store.setExecutionStatus(key: failing.key, operationId: failingExecution.operationId, to: .started)
            let detachingExecution = try await store.createExecution(key: detaching.key, statement: "select 2", reattachable: true)
            try await store.setExecutionStatus(key: detaching.key, operationId: detachingExecution.operationId, to: .started)
            #expect(try test.sessionTiming(key: failing.key)?.state == "active")
            #expect(try test.sessionTiming(key: detaching.key)?.state == "active")
            return (failing, detaching, plain, failingExecution, detachingExecution)
        }

        let fakeInstance = try test.leaveDeadInstance()
        #expect(try test.inspector.update("executions", set: ["instance_id": .integer(fakeInstance)], where: [:]) == 2)
        #expect(try test.inspector.count("instances") == 1)

        // Down for longer than the timeout: every session is due at the first sweep.
        test.clock.advance(by: .milliseconds(3 * timeout))
        return Crash(
            test: test, failing: (failing.key, failingExecution.operationId),
            detaching: (detaching.key, detachingExecution.operationId), plain: plain.key, fakeInstance: fakeInstance)
    }

    static func recoveredEvents(_ store: SessionStore) async throws -> [StoreEvent] {
        try await store.listEvents(after: 0, limit: 1_000, filter: EventFilter(kind: EventKind.storeRecovered))
    }

    @Test(arguments: Backend.all)
    func reopeningAfterACrashRecoversOnceAndReArmsDueSessions(backend: Backend) async throws {
        let crash = try await Self.crash(backend)
        let test = crash.test
        let reopenedAt = test.clock.now()
        try await test.withStore { $0.tick = .milliseconds(Self.tick) } body: { store in
            let recovery = try #require(store.recovery)
            #expect(recovery.deadInstances == 1)
            #expect(recovery.failedExecutions == 1)
            #expect(recovery.detachedExecutions == 1)
            #expect(recovery.endedSessions == 0)
            #expect(recovery.rearmEpoch?.milliseconds == reopenedAt)
            #expect(try test.inspector.count("instances", where: ["id": .integer(crash.fakeInstance)]) == 0)

            let events = try await Self.recoveredEvents(store)
            #expect(events.count == 1)
            let event = try #require(events.first)
            #expect(event.payload["deadInstances"] == "1")
            #expect(event.payload["failedExecutions"] == "1")
            #expect(event.payload["detachedExecutions"] == "1")
            #expect(event.payload["endedSessions"] == "0")
            #expect(event.payload["rearmEpoch"] != nil)

            let failed = try #require(try await store.execution(key: crash.failing.key, operationId: crash.failing.operationId))
            #expect(failed.status == .failed)
            #expect(failed.error == "server restarted")
            let detached = try #require(try await store.execution(key: crash.detaching.key, operationId: crash.detaching.operationId))
            #expect(detached.status == .started)
            #expect(!detached.attached)
            for key in crash.keys {
                #expect(try test.sessionTiming(key: key)?.state == "idle", "session \(key)")
            }

            // Every session was due during the downtime: re-armed, not expired.
            let originalExpiry = roundUp(StoreFixture.start + Self.timeout, Self.tick)
            #expect(originalExpiry < reopenedAt)
            let report = try await store.sweep()
            #expect(report.expiredSessions.isEmpty)
            #expect(report.rearmedSessions == 3)
            #expect(report.sparedActiveSessions == 0)
            let rearmedTo = roundUp(reopenedAt + Self.timeout, Self.tick)
            for key in crash.keys {
                #expect(try test.sessionTiming(key: key)?.state == "idle", "session \(key)")
                #expect(try test.sessionTiming(key: key)?.expireAt == rearmedTo, "session \(key)")
            }
            #expect(try test.eventCount(kind: EventKind.sessionEnded) == 0)

            // The reattachable execution can be reattached within the detached timeout.
            let reattached = try await store.attachExecution(key: crash.detaching.key, operationId: crash.detaching.operationId)
            #expect(reattached.attached)

            // Re-armed once: at the new expiry the idle ones expire.
            test.clock.set(rearmedTo)
            let later = try await store.sweep()
            #expect(Set(later.expiredSessions.keys) == Set([crash.failing.key, crash.plain]))
            #expect(later.sparedActiveSessions == 1)
        }

        // Opening an already recovered file does nothing.
        try await test.withStore { $0.tick = .milliseconds(Self.tick) } body: { (again) async throws in
            #expect(again.recovery == nil)
            #expect(try await Self.recoveredEvents(again).count == 1)
        }
        try await test.withStore { $0.tick = .milliseconds(Self.tick) } body: { (third) async throws in
            #expect(third.recovery == nil)
            #expect(try await Self.recoveredEvents(third).count == 1)
        }
    }

    @Test(arguments: Backend.all)
    func strictRecoveryLetsDueSessionsExpireInTheFirstSweep(backend: Backend) async throws {
        let crash = try await Self.crash(backend)
        let test = crash.test
        try await test.withStore {
            $0.tick = .milliseconds(Self.tick)
            $0.recoveryMode = .strict
        } body: { store in
            let recovery = try #require(store.recovery)
            #expect(recovery.deadInstances == 1)
            #expect(recovery.failedExecutions == 1)
            #expect(recovery.detachedExecutions == 1)
            #expect(recovery.rearmEpoch == nil)
            let events = try await Self.recoveredEvents(store)
            #expect(events.count == 1)
            #expect(events.first?.payload["rearmEpoch"] == nil)

            let report = try await store.sweep()
            #expect(Set(report.expiredSessions.keys) == Set(crash.keys))
            #expect(report.rearmedSessions == 0)
            for key in crash.keys {
                #expect(try test.sessionTiming(key: key)?.state == "expired", "session \(key)")
                #expect(try test.endedEventStates(key: key) == ["expired"], "session \(key)")
            }
            // Ending the sessions closed their executions: the detached one, still running,
            // canceled on the way; the one recovery failed keeps its error.
            #expect(try test.executionStatus(operationId: crash.detaching.operationId) == "closed")
            #expect(try test.executionEnd(operationId: crash.detaching.operationId)?.endedAt != nil)
            #expect(try test.executionStatus(operationId: crash.failing.operationId) == "closed")
            #expect(try test.executionEnd(operationId: crash.failing.operationId)?.error == "server restarted")
        }

        try await test.withStore { $0.tick = .milliseconds(Self.tick) } body: { (again) async throws in
            #expect(again.recovery == nil)
            #expect(try await Self.recoveredEvents(again).count == 1)
        }
    }

    /// While another serving instance is alive (it keeps sweeping), recovery finishes the
    /// dead one's work but does not re-arm: due sessions expire at the first sweep.
    @Test(arguments: Backend.all)
    func recoveryDoesNotReArmWhileAnotherServingInstanceIsAlive(backend: Backend) async throws {
        let crash = try await Self.crash(backend)
        let test = crash.test
        // This process's own pid: alive.
        let alive = try test.leaveInstance(pid: Int64(getpid()), serving: true)
        try await test.withStore { $0.tick = .milliseconds(Self.tick) } body: { store in
            let recovery = try #require(store.recovery)
            #expect(recovery.deadInstances == 1)
            #expect(recovery.failedExecutions == 1)
            #expect(recovery.detachedExecutions == 1)
            #expect(recovery.rearmEpoch == nil)
            #expect(try test.inspector.count("instances", where: ["id": .integer(alive)]) == 1)
            #expect(try test.inspector.count("instances", where: ["id": .integer(crash.fakeInstance)]) == 0)
            let report = try await store.sweep()
            #expect(Set(report.expiredSessions.keys) == Set(crash.keys))
            #expect(report.rearmedSessions == 0)
        }
        try test.inspector.delete("instances", where: ["id": .integer(alive)])
    }

    /// On another host a process cannot be probed: its instance is dead once its
    /// heartbeat is older than `instanceTimeout`, and alive before.
    @Test(arguments: Backend.all, [(age: Int64(29_000), dead: false), (age: 31_000, dead: true)])
    func anInstanceOnAnotherHostIsDeadWhenItsHeartbeatIsTooOld(backend: Backend, heartbeat: (age: Int64, dead: Bool)) async throws {
        let (age, dead) = heartbeat
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.tick = .milliseconds(Self.tick) } body: { _ in }
        let now = test.clock.now()
        try test.leaveInstance(host: "elsewhere.invalid", pid: 1, startedAt: now - 60_000, heartbeatAt: now - age, serving: false)
        try await test.withStore {
            $0.tick = .milliseconds(Self.tick)
            $0.instanceTimeout = .milliseconds(30_000)
        } body: { (store) async throws in
            #expect(store.configuration.instanceTimeout == .seconds(30))
            if dead {
                #expect(store.recovery?.deadInstances == 1)
                #expect(try test.inspector.count("instances", where: ["host": "elsewhere.invalid"]) == 0)
            } else {
                #expect(store.recovery == nil)
                #expect(try test.inspector.count("instances", where: ["host": "elsewhere.invalid"]) == 1)
            }
        }
    }

    /// A live instance (this process's pid) is not taken for dead, and recovery does not
    /// re-arm while another instance is alive.
    @Test(arguments: Backend.all)
    func anInstanceWhoseProcessIsAliveIsNotRecovered(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.tick = .milliseconds(Self.tick) } body: { first in
            try await test.withStore { $0.tick = .milliseconds(Self.tick) } body: { (second) async throws in
                #expect(second.recovery == nil)
                #expect(try await Self.recoveredEvents(second).isEmpty)
            }
        }
    }
}
