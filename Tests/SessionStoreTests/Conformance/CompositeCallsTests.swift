import Foundation
import SessionStore
import Synchronization
import Testing

/// Calls that front ends used to make of several store calls, each now one call of the
/// library and, where it writes, one transaction: releasing an execution, setting and
/// removing details together, following an execution through reattach.
@Suite struct CompositeCallsTests {
    @Test(arguments: Backend.all)
    func releasingARunningExecutionInterruptsAndClosesIt(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada")
            let running = UUID().uuidString.lowercased()
            let done = UUID().uuidString.lowercased()
            _ = try await store.createExecution(key: session.key, operationId: running)
            try await store.setExecutionStatus(key: session.key, operationId: running, to: .started)
            _ = try await store.createExecution(key: session.key, operationId: done)
            try await store.setExecutionStatus(key: session.key, operationId: done, to: .started)
            try await store.setExecutionStatus(key: session.key, operationId: done, to: .finished)

            let released = try await store.releaseExecution(key: session.key, operationId: running)
            #expect(released.status == .closed)
            #expect(released.closedAt != nil)
            let finished = try await store.releaseExecution(key: session.key, operationId: done)
            #expect(finished.status == .closed)
            // Released again: answered as it is, nothing written.
            let before = try test.inspector.count("events")
            #expect(try await store.releaseExecution(key: session.key, operationId: running).status == .closed)
            #expect(try test.inspector.count("events") == before)

            let moves = try await store.listEvents(filter: EventFilter(sessionKey: session.key, kind: EventKind.executionStatus))
                .filter { $0.operationId == running }.map { "\($0.payload["from"] ?? "?")>\($0.payload["to"] ?? "?")" }
            #expect(moves == ["pending>started", "started>canceled", "canceled>closed"])
            #expect(try test.eventCount(kind: EventKind.executionInterrupted, key: session.key) == 1)
            // The canceled and closed moves were one transaction: one time for both.
            let times = try test.inspector.rows(
                ["at"], of: "events", where: ["session_key": .text(session.key), "operation_id": .text(running)], orderedBy: "seq"
            ).suffix(3).compactMap { $0[0].integer }
            #expect(Set(times).count == 1)
            #expect(try await store.session(key: session.key)?.state == .idle)
        }
    }

    @Test(arguments: Backend.all)
    func releaseRefusesAnUnknownOperationAndChangesNothing(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada")
            let before = try test.inspector.tableCounts()
            await expectError(.operationNotFound) { try await store.releaseExecution(key: session.key, operationId: UUID().uuidString) }
            await expectError(.handleFormat) { try await store.releaseExecution(key: session.key, operationId: "") }
            await expectError(.sessionNotFound) {
                try await store.releaseExecution(key: UUID().uuidString, operationId: UUID().uuidString)
            }
            #expect(try test.inspector.tableCounts() == before)
        }
    }

    @Test(arguments: Backend.all)
    func detailsAreSetAndRemovedInOneCall(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada", details: ["keep": "1", "stale": "x", "both": "0"])
            test.clock.advance(by: .seconds(5))
            let updated = try await store.updateDetails(key: session.key, set: ["new": "2", "both": "9"], remove: ["stale", "both", "absent"])
            // A name both set and removed ends removed; the answer is the stored session.
            #expect(updated.details == ["keep": "1", "new": "2"])
            #expect(try test.pairs("session_details", key: session.key) == ["keep": "1", "new": "2"])
            #expect(updated.lastAccessAt == Timestamp(milliseconds: test.start + 5_000))
            let events = try await store.listEvents(filter: EventFilter(sessionKey: session.key))
            let kinds = events.map(\.kind).filter { $0 == EventKind.detailsUpdated || $0 == EventKind.detailsRemoved }
            #expect(kinds == [EventKind.detailsUpdated, EventKind.detailsRemoved])
            #expect(events.last { $0.kind == EventKind.detailsRemoved }?.payload == ["names": "both,stale"])
        }
    }

    @Test(arguments: Backend.all)
    func detailsOverTheLimitWriteNothingEvenWithRemovals(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.limits.maxDetailsPerSession = 2 } body: { store in
            let session = try await store.openSession(userId: "ada", details: ["a": "1"])
            let before = try test.inspector.tableCounts()
            await expectError(.detailsPerSession) {
                try await store.updateDetails(key: session.key, set: ["b": "2", "c": "3"], remove: ["a"])
            }
            #expect(try test.inspector.tableCounts() == before)
            #expect(try test.pairs("session_details", key: session.key) == ["a": "1"])
        }
    }

    @Test(arguments: Backend.all)
    func followingAnExecutionDeliversEachChangeUntilItEnds(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada")
            let op = UUID().uuidString.lowercased()
            _ = try await store.createExecution(key: session.key, operationId: op, reattachable: true)
            try await store.detachExecution(key: session.key, operationId: op)
            let delivered = Delivered()
            let follower = Task {
                try await store.followExecution(key: session.key, operationId: op) { execution in
                    delivered.statuses.withLock { $0.append(execution.status) }
                }
            }
            try await waitUntil { delivered.statuses.withLock { $0.count } == 1 }
            #expect(try await store.execution(key: session.key, operationId: op)?.attached == true)
            try await store.setExecutionStatus(key: session.key, operationId: op, to: .started)
            try await store.setExecutionStatus(key: session.key, operationId: op, to: .finished)
            try await follower.value
            // Each delivery is the execution as it is when read after a change, so changes
            // made in quick succession may arrive as one: the attached state first, the
            // final one last, in order, none twice.
            let statuses = delivered.statuses.withLock { $0 }
            #expect(statuses.first == .pending)
            #expect(statuses.last == .finished)
            #expect(statuses == [.pending, .started, .finished] || statuses == [.pending, .finished], "\(statuses)")
        }
    }

    @Test(arguments: Backend.all)
    func aFollowEndedEarlyDetachesTheExecution(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada")
            let op = UUID().uuidString.lowercased()
            _ = try await store.createExecution(key: session.key, operationId: op, reattachable: true)
            struct ClientGone: Error {}
            await #expect(throws: ClientGone.self) {
                try await store.followExecution(key: session.key, operationId: op) { _ in throw ClientGone() }
            }
            let execution = try #require(try await store.execution(key: session.key, operationId: op))
            #expect(!execution.attached)
            #expect(execution.status == .pending)

            // Cancelled while following: detached all the same.
            let follower = Task {
                try await store.followExecution(key: session.key, operationId: op) { _ in }
            }
            try await waitUntil { try await store.execution(key: session.key, operationId: op)?.attached == true }
            follower.cancel()
            _ = await follower.result
            #expect(try await store.execution(key: session.key, operationId: op)?.attached == false)
            #expect(try test.eventCount(kind: EventKind.executionDetached, key: session.key) >= 2)
        }
    }

    @Test(arguments: Backend.all)
    func sessionChangesOfOneDataSourceArriveInOrder(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let before = try await store.openSession(userId: "ada", dataSource: "telemetry")
            let changes = try await store.sessionChanges(dataSource: "telemetry")
            let other = try await store.openSession(userId: "bob", dataSource: "warehouse")
            let session = try await store.openSession(userId: "cy", dataSource: "telemetry")
            try await store.closeSession(key: other.key)
            try await store.closeSession(key: session.key, reason: "done")
            var seen: [String] = []
            for try await event in changes {
                seen.append("\(event.kind.rawValue) \(event.sessionKey ?? "-") \(event.userId ?? "-")")
                if seen.count == 2 { break }
            }
            // Only what happened after the stream began, only of its data source.
            #expect(seen == ["session.started \(session.key) cy", "session.ended \(session.key) cy"])
            #expect(before.dataSource == "telemetry")
            await expectError(.invalidDataSource) { try await store.sessionChanges(dataSource: "") }
        }
    }

    /// `serve` marks the store served through the sweeper before announcing itself; the
    /// sweeper then does not mark it again, and a sweeper run twice serves both times.
    @Test(arguments: Backend.all)
    func aSweeperStartedOrRunTwiceMarksTheStoreServedEachTime(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let sweeper = ExpirySweeper(store: store, clock: ContinuousClock(), interval: .milliseconds(10), jitter: .zero)
            try await sweeper.startServing()
            #expect(try test.inspector.count("instances", where: ["serving": 1]) == 1)
            for run in 1...2 {
                // Cancelled before its first pass: a run still marks the store served (when
                // it is not yet) and records the clean stop when it ends, without waiting on
                // a pass.
                let running = Task { try await sweeper.run() }
                running.cancel()
                try await running.value
                #expect(try test.inspector.count("instances", where: ["serving": 1]) == 0, "run \(run)")
                // The clean stop of the last serving process is recorded, every time: only a
                // process marked serving records it.
                #expect(try test.inspector.count("store_state", where: ["name": "serving_stopped_at"]) == 1, "run \(run)")
                try test.inspector.delete("store_state", where: ["name": "serving_stopped_at"])
            }
        }
    }

    /// The statuses a follow delivered.
    final class Delivered: Sendable {
        let statuses = Mutex<[ExecutionStatus]>([])
    }

    /// Polls `condition` every 10 ms for up to 30 s: a wait on another task's progress,
    /// not on time.
    private func waitUntil(_ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while try await !condition() {
            try #require(ContinuousClock.now < deadline, "condition never held")
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
