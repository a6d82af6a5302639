import Foundation
import SessionStore
import Testing

/// Detached executions abandoned after the detached timeout, executions timed out past
/// their own timeout, and the tombstone an abandoned operation id leaves, on every backend.
@Suite struct ExecutionAbandonmentTests {
    typealias Kit = ExecutionTestKit

    /// A detached timeout shorter than the default session timeout (1 h), so moving the
    /// clock past it never expires the session itself.
    static let detachedTimeout: Int64 = 60_000

    static func running(_ store: SessionStore) async throws -> [String] {
        switch try await store.listActiveExecutions() {
        case .idleSince: []
        case .running(let executions): executions.map(\.operationId)
        }
    }

    @Test(arguments: Backend.all)
    func aDetachedExecutionIsAbandonedOnlyAfterTheDetachedTimeout(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.detachedTimeout = .milliseconds(Self.detachedTimeout) } body: { store in
            let session = try await store.openSession(userId: "ada")
            let id = Kit.operationId()
            try await store.createExecution(key: session.key, operationId: id, reattachable: true)
            try await store.setExecutionStatus(key: session.key, operationId: id, to: .started)
            test.clock.advance(by: .milliseconds(500))
            let detached = try await store.detachExecution(key: session.key, operationId: id)
            let detachedAt = test.clock.now()
            #expect(!detached.attached)
            #expect(detached.lastAttachedAt.milliseconds == detachedAt)
            #expect(try test.loggedEventCount(kind: "execution.detached", operationId: id) == 1)

            // Just short of the timeout: nothing happens.
            test.clock.advance(by: .milliseconds(Self.detachedTimeout - 1))
            let early = try await store.runExecutionMaintenance()
            #expect(early.abandonedOperations.isEmpty)
            #expect(early.timedOutOperations.isEmpty)
            let stillRunning = try #require(try test.executionRow(id))
            #expect(stillRunning.status == "started")
            #expect(stillRunning.abandonedAt == nil)
            #expect(try await Self.running(store) == [id])
            #expect(try await store.listAbandonedExecutions().isEmpty)

            // Past it: abandoned, tombstoned, closed.
            test.clock.advance(by: .milliseconds(2))
            let now = test.clock.now()
            let report = try await store.runExecutionMaintenance()
            #expect(report.abandonedOperations.keys == [id])
            let row = try #require(try test.executionRow(id))
            #expect(row.abandonedAt == now)
            #expect(row.status == "closed")
            #expect(row.closedAt == now)
            #expect(row.endedAt == now)
            #expect(row.attached == 0)
            #expect(try test.loggedEventCount(kind: "execution.abandoned", operationId: id) == 1)
            // It was still running, so it was canceled on the way (one status event).
            let changes = try test.loggedEvents(where: [
                "kind": .text(EventKind.executionStatus.rawValue), "operation_id": .text(id), "at": .integer(now),
            ])
            #expect(changes.filter { $0.payload["to"] == "canceled" }.count == 1)

            let abandoned = try await store.listAbandonedExecutions()
            #expect(abandoned.map(\.operationId) == [id])
            #expect(abandoned.first?.abandonedAt?.milliseconds == now)
            #expect(abandoned.first?.sessionKey == session.key)
            let runningNow = try await Self.running(store)
            #expect(!runningNow.contains(id))
            #expect(try await store.listActiveExecutions() == .idleSince(Timestamp(milliseconds: now)))
            // The session has nothing running any more.
            #expect(try test.sessionStateColumn(key: session.key) == "idle")

            // A second pass finds nothing more to do.
            let again = try await store.runExecutionMaintenance()
            #expect(again.abandonedOperations.isEmpty)
            #expect(try test.loggedEventCount(kind: "execution.abandoned", operationId: id) == 1)

            // The id is a tombstone: it cannot be used again in this session.
            let executions = try test.inspector.count("executions")
            await expectError("INVALID_HANDLE.OPERATION_ABANDONED") {
                try await store.createExecution(key: session.key, operationId: id)
            }
            await expectError("INVALID_HANDLE.OPERATION_ABANDONED") {
                try await store.createExecution(key: session.key, operationId: id.uppercased())
            }
            #expect(try test.inspector.count("executions") == executions)

            // Reattaching or moving it: OPERATION_ABANDONED, and nothing changes.
            let events = try test.loggedEventCount()
            let attachError = await expectError("INVALID_HANDLE.OPERATION_ABANDONED", SessionStoreError.Code.invalidTransition) {
                try await store.attachExecution(key: session.key, operationId: id)
            }
            #expect(attachError != nil)
            await expectError(SessionStoreError.Code.operationAbandoned) {
                try await store.setExecutionStatus(key: session.key, operationId: id, to: .started)
            }
            #expect(try test.executionRow(id) == row)
            #expect(try test.loggedEventCount() == events)
        }
    }

    @Test(arguments: Backend.all)
    func everyUseOfAnAbandonedOperationIdAnswersOperationAbandoned(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.detachedTimeout = .milliseconds(Self.detachedTimeout) } body: { store in
            let session = try await store.openSession(userId: "ada")
            // One abandoned while running (canceled, then closed), one after it finished.
            let running = try await store.createExecution(key: session.key, reattachable: true)
            try await store.setExecutionStatus(key: session.key, operationId: running.operationId, to: .started)
            let finished = try await store.createExecution(key: session.key, reattachable: true)
            try await Kit.bring(store, session: session.key, operationId: finished.operationId, to: .finished)
            for id in [running.operationId, finished.operationId] {
                try await store.detachExecution(key: session.key, operationId: id)
            }
            test.clock.advance(by: .milliseconds(Self.detachedTimeout + 1))
            #expect(try await store.runExecutionMaintenance().abandonedOperations.count == 2)

            for id in [running.operationId, finished.operationId] {
                let row = try #require(try test.executionRow(id))
                let events = try test.loggedEventCount()
                for status in ExecutionStatus.allCases {
                    await expectError(SessionStoreError.Code.operationAbandoned) {
                        try await store.setExecutionStatus(key: session.key, operationId: id, to: status)
                    }
                }
                await expectError(SessionStoreError.Code.operationAbandoned) {
                    try await store.attachExecution(key: session.key, operationId: id)
                }
                await expectError(SessionStoreError.Code.operationAbandoned) {
                    try await store.detachExecution(key: session.key, operationId: id)
                }
                await expectError(SessionStoreError.Code.operationAbandoned) {
                    try await store.interrupt(key: session.key, operationId: id)
                }
                await expectError(SessionStoreError.Code.operationAbandoned) {
                    try await store.interrupt(key: session.key, operationId: id.uppercased())
                }
                #expect(try test.executionRow(id) == row)
                #expect(try test.loggedEventCount() == events)
            }
            // A closed execution that was never abandoned keeps INVALID_TRANSITION.
            let closed = try await store.createExecution(key: session.key)
            try await Kit.bring(store, session: session.key, operationId: closed.operationId, to: .closed)
            await expectError(SessionStoreError.Code.invalidTransition) {
                try await store.setExecutionStatus(key: session.key, operationId: closed.operationId, to: .closed)
            }
            #expect(try await store.interrupt(key: session.key, operationId: closed.operationId).operationIds == [])
        }
    }

    @Test(arguments: Backend.all)
    func anAttachedExecutionIsNeverAbandoned(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.detachedTimeout = .milliseconds(Self.detachedTimeout) } body: { store in
            let session = try await store.openSession(userId: "ada")
            let attached = try await store.createExecution(key: session.key, reattachable: true)
            let plain = try await store.createExecution(key: session.key)
            try await store.setExecutionStatus(key: session.key, operationId: plain.operationId, to: .started)

            test.clock.advance(by: .milliseconds(Self.detachedTimeout * 10))
            let report = try await store.runExecutionMaintenance()
            #expect(report.abandonedOperations.isEmpty)
            #expect(try test.executionRow(attached.operationId)?.status == "pending")
            #expect(try test.executionRow(attached.operationId)?.abandonedAt == nil)
            #expect(try test.executionRow(plain.operationId)?.status == "started")
            #expect(try test.loggedEventCount(kind: "execution.abandoned") == 0)
            #expect(try await store.listAbandonedExecutions().isEmpty)
            #expect(try await Set(Self.running(store)) == [attached.operationId, plain.operationId])
        }
    }

    @Test(arguments: Backend.all)
    func reattachingInTimeRestartsTheDetachedClock(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.detachedTimeout = .milliseconds(Self.detachedTimeout) } body: { store in
            let session = try await store.openSession(userId: "ada")
            let execution = try await store.createExecution(key: session.key, reattachable: true)
            let id = execution.operationId
            try await store.detachExecution(key: session.key, operationId: id)
            test.clock.advance(by: .milliseconds(Self.detachedTimeout - 1000))
            let reattached = try await store.attachExecution(key: session.key, operationId: id)
            #expect(reattached.attached)
            #expect(reattached.lastAttachedAt.milliseconds == test.clock.now())
            #expect(try test.loggedEventCount(kind: "execution.attached", operationId: id) == 1)
            try await store.detachExecution(key: session.key, operationId: id)
            // Long after the first detach, but within the timeout of the second one.
            test.clock.advance(by: .milliseconds(Self.detachedTimeout - 1))
            #expect(try await store.runExecutionMaintenance().abandonedOperations.isEmpty)
            test.clock.advance(by: .milliseconds(1))
            #expect(try await store.runExecutionMaintenance().abandonedOperations.keys == [id])
        }
    }

    @Test(arguments: Backend.all)
    func aFinishedButUnclosedDetachedExecutionIsAbandonedAndKeepsItsEnd(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.detachedTimeout = .milliseconds(Self.detachedTimeout) } body: { store in
            let session = try await store.openSession(userId: "ada")
            let execution = try await store.createExecution(key: session.key)
            let id = execution.operationId
            try await Kit.bring(store, session: session.key, operationId: id, to: .finished)
            let endedAt = try #require(try test.executionRow(id)?.endedAt)
            try await store.detachExecution(key: session.key, operationId: id)
            test.clock.advance(by: .milliseconds(Self.detachedTimeout + 1))
            #expect(try await store.runExecutionMaintenance().abandonedOperations.keys == [id])
            let row = try #require(try test.executionRow(id))
            #expect(row.status == "closed")
            #expect(row.endedAt == endedAt)
            #expect(row.abandonedAt == test.clock.now())
            #expect(try test.loggedEventCount(kind: "execution.abandoned", operationId: id) == 1)
            // A closed, detached execution is not abandoned.
            let closed = try await store.createExecution(key: session.key)
            try await Kit.bring(store, session: session.key, operationId: closed.operationId, to: .closed)
            await expectError(SessionStoreError.Code.invalidTransition) {
                try await store.detachExecution(key: session.key, operationId: closed.operationId)
            }
            test.clock.advance(by: .milliseconds(Self.detachedTimeout * 2))
            #expect(try await store.runExecutionMaintenance().abandonedOperations.isEmpty)
            #expect(try test.executionRow(closed.operationId)?.abandonedAt == nil)
        }
    }

    @Test(arguments: Backend.all)
    func reattachingANonReattachableExecutionIsRefused(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada")
            let execution = try await store.createExecution(key: session.key, reattachable: false)
            let id = execution.operationId
            #expect(!execution.reattachable)
            // Attaching an attached execution is a no-op refresh, allowed even when not reattachable.
            try await store.attachExecution(key: session.key, operationId: id)
            try await store.detachExecution(key: session.key, operationId: id)
            let before = try #require(try test.executionRow(id))
            let events = try test.loggedEventCount()
            await expectError("INVALID_HANDLE.OPERATION_NOT_REATTACHABLE") {
                try await store.attachExecution(key: session.key, operationId: id)
            }
            #expect(try test.executionRow(id) == before)
            #expect(before.attached == 0)
            #expect(try test.loggedEventCount() == events)
        }
    }

    @Test(arguments: Backend.all)
    func abandoningAnEndedSessionsExecutionDoesNotReviveTheSession(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.detachedTimeout = .milliseconds(Self.detachedTimeout) } body: { store in
            let session = try await store.openSession(userId: "ada")
            let execution = try await store.createExecution(key: session.key, reattachable: true)
            try await store.detachExecution(key: session.key, operationId: execution.operationId)
            try await store.closeSession(key: session.key)
            #expect(try test.executionRow(execution.operationId)?.status == "closed")
            test.clock.advance(by: .milliseconds(Self.detachedTimeout + 1))
            _ = try await store.runExecutionMaintenance()
            #expect(try test.sessionStateColumn(key: session.key) == "closed")
            #expect(try await store.session(key: session.key)?.state == .closed)
            // Closed with its session, it is not abandoned, nor running again.
            let row = try #require(try test.executionRow(execution.operationId))
            #expect(row.status == "closed")
            #expect(row.abandonedAt == nil)
        }
    }

    @Test(arguments: Backend.all)
    func anExecutionPastItsOwnTimeoutIsTimedOut(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada")
            let execution = try await store.createExecution(key: session.key, timeout: .seconds(10))
            let id = execution.operationId
            #expect(execution.timeout == .milliseconds(10_000))
            let untimed = try await store.createExecution(key: session.key)
            try await store.setExecutionStatus(key: session.key, operationId: id, to: .started)
            #expect(try test.sessionStateColumn(key: session.key) == "active")

            test.clock.advance(by: .milliseconds(9_000))
            #expect(try await store.runExecutionMaintenance().timedOutOperations.isEmpty)
            #expect(try test.executionRow(id)?.status == "started")

            test.clock.advance(by: .milliseconds(2_000))
            let report = try await store.runExecutionMaintenance()
            #expect(report.timedOutOperations.keys == [id])
            #expect(report.abandonedOperations.isEmpty)
            let row = try #require(try test.executionRow(id))
            #expect(row.status == "timedOut")
            #expect(row.endedAt == test.clock.now())
            let changes = try test.loggedEvents(where: ["kind": .text(EventKind.executionStatus.rawValue), "operation_id": .text(id)])
            #expect(changes.filter { $0.payload["to"] == "timedOut" }.count == 1)
            #expect(try test.executionRow(untimed.operationId)?.status == "pending")
            // Timed out is terminal: it can be closed, not revived.
            await expectError(SessionStoreError.Code.invalidTransition) {
                try await store.setExecutionStatus(key: session.key, operationId: id, to: .finished)
            }
            try await store.setExecutionStatus(key: session.key, operationId: id, to: .closed)
            #expect(try await store.runExecutionMaintenance().timedOutOperations.isEmpty)

            // The timeout must be positive.
            await expectError("INVALID_ARGUMENT.TIMEOUT") {
                try await store.createExecution(key: session.key, timeout: .zero)
            }
        }
    }
}
