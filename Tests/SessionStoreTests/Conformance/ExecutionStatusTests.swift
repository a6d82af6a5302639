import Foundation
import SessionStore
import Testing

/// The execution status machine: the table itself, and every move through the store on
/// every backend.
@Suite struct ExecutionStatusTests {
    typealias Kit = ExecutionTestKit

    // MARK: The table itself

    @Test func allowedNextIsExactlyTheDesignedMachine() {
        #expect(ExecutionStatus.allCases.count == 9)
        #expect(Set(Kit.expectedAllowedNext.keys) == Set(ExecutionStatus.allCases))
        for from in ExecutionStatus.allCases {
            #expect(from.allowedNext == Kit.expectedAllowedNext[from], "allowedNext of \(from)")
            for to in ExecutionStatus.allCases {
                #expect(from.canMove(to: to) == (Kit.expectedAllowedNext[from]?.contains(to) == true), "\(from) → \(to)")
            }
        }
        let allowedPairs = ExecutionStatus.allCases.reduce(0) { $0 + $1.allowedNext.count }
        #expect(allowedPairs == 23)
        // Nothing ever goes back to pending, and closed is the end.
        #expect(ExecutionStatus.allCases.allSatisfy { !$0.canMove(to: .pending) })
        #expect(ExecutionStatus.closed.allowedNext.isEmpty)
    }

    @Test func runningAndTerminalPartitionTheStatuses() {
        let running: Set<ExecutionStatus> = [.pending, .started, .analyzed, .readyForExecution]
        let terminal: Set<ExecutionStatus> = [.finished, .failed, .canceled, .timedOut]
        for status in ExecutionStatus.allCases {
            #expect(status.isRunning == running.contains(status), "\(status).isRunning")
            #expect(status.isTerminal == terminal.contains(status), "\(status).isTerminal")
        }
        #expect(!ExecutionStatus.closed.isRunning && !ExecutionStatus.closed.isTerminal)
        // Terminal statuses lead only to closed; running ones can always end.
        for status in terminal { #expect(status.allowedNext == [.closed]) }
        for status in running { #expect(status.allowedNext.isSuperset(of: [.failed, .canceled, .timedOut])) }
    }

    @Test func everyStatusIsReachableFromPending() throws {
        #expect(Kit.path(to: .pending) == [])
        #expect(Kit.path(to: .readyForExecution) == [.started, .analyzed, .readyForExecution])
        for status in ExecutionStatus.allCases {
            let path = try #require(Kit.path(to: status), "\(status) unreachable")
            var current = ExecutionStatus.pending
            for step in path {
                #expect(current.canMove(to: step))
                current = step
            }
            #expect(current == status)
        }
        // closed is reached through a terminal status.
        let toClosed = try #require(Kit.path(to: .closed))
        #expect(toClosed.count >= 2 && toClosed[toClosed.count - 2].isTerminal)
    }

    // MARK: Every pair through the store

    /// One move of the machine, allowed or not: every ordered pair of statuses.
    struct Move: Sendable, CustomTestStringConvertible {
        var from: ExecutionStatus
        var to: ExecutionStatus
        var testDescription: String { "\(from.rawValue) → \(to.rawValue)" }

        static let all = ExecutionStatus.allCases.flatMap { from in ExecutionStatus.allCases.map { Move(from: from, to: $0) } }
    }

    @Test(arguments: Backend.all, Move.all)
    func transition(backend: Backend, move: Move) async throws {
        let (from, to) = (move.from, move.to)
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada")
            let operationId = Kit.operationId()
            let created = try await store.createExecution(key: session.key, operationId: operationId)
            #expect(created.status == .pending)
            try await Kit.bring(store, session: session.key, operationId: operationId, to: from)
            let before = try #require(try test.executionRow(operationId))
            #expect(before.status == from.rawValue)

            test.clock.advance(by: .milliseconds(1000))
            let now = test.clock.now()
            let eventsBefore = try test.loggedEventCount()
            let failuresBefore = try await store.sessionStatistics(key: session.key).failures
            let error: String? = to == .failed ? "boom: \(from.rawValue)" : nil

            if Kit.expectedAllowedNext[from]?.contains(to) == true {
                let moved = try await store.setExecutionStatus(
                    key: session.key, operationId: operationId, to: to, error: error)
                #expect(moved.status == to)
                let after = try #require(try test.executionRow(operationId))
                #expect(after.status == to.rawValue)
                #expect(try test.loggedEventCount() == eventsBefore + 1)
                let changes = try test.loggedEvents(where: [
                    "kind": .text(EventKind.executionStatus.rawValue), "operation_id": .text(operationId), "at": .integer(now),
                ])
                #expect(changes.filter { $0.payload["from"] == from.rawValue && $0.payload["to"] == to.rawValue }.count == 1)
                let failures = try await store.sessionStatistics(key: session.key).failures
                if to == .failed {
                    #expect(after.error == error)
                    #expect(moved.error == error)
                    #expect(failures == failuresBefore + 1)
                } else {
                    #expect(after.error == before.error)
                    #expect(failures == failuresBefore)
                }
                #expect(after.startedAt == (to == .started ? now : before.startedAt))
                #expect(after.endedAt == (to.isTerminal ? now : before.endedAt))
                #expect(after.closedAt == (to == .closed ? now : before.closedAt))
            } else {
                let thrown = await expectError(SessionStoreError.Code.invalidTransition) {
                    try await store.setExecutionStatus(key: session.key, operationId: operationId, to: to, error: error)
                }
                let message = try #require(thrown?.message)
                #expect(message.contains("from \(from.rawValue)"), "\(message)")
                #expect(message.contains("to \(to.rawValue)"), "\(message)")
                #expect(try test.executionRow(operationId) == before)
                #expect(try test.loggedEventCount() == eventsBefore)
                #expect(try await store.sessionStatistics(key: session.key).failures == failuresBefore)
            }
        }
    }

    // MARK: Counters and error text

    @Test(arguments: Backend.all)
    func creatingCountsStatementsAndFailingCountsFailures(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada")
            let other = try await store.openSession(userId: "ada")
            #expect(try await store.sessionStatistics(key: session.key).statements == 0)

            let first = try await store.createExecution(key: session.key, statement: "select 1")
            let second = try await store.createExecution(key: session.key, statement: "select 2")
            let third = try await store.createExecution(key: session.key)
            try await store.createExecution(key: other.key)
            var statistics = try await store.sessionStatistics(key: session.key)
            #expect(statistics.statements == 3)
            #expect(statistics.failures == 0)
            #expect(try test.loggedEventCount(kind: "execution.created") == 4)

            try await store.setExecutionStatus(key: session.key, operationId: first.operationId, to: .started)
            let failed = try await store.setExecutionStatus(
                key: session.key, operationId: first.operationId, to: .failed, error: "division by zero")
            #expect(failed.error == "division by zero")
            #expect(try test.executionRow(first.operationId)?.error == "division by zero")
            // An error given with any other status is not recorded.
            try await store.setExecutionStatus(key: session.key, operationId: second.operationId, to: .canceled, error: "ignored")
            #expect(try test.executionRow(second.operationId)?.error == nil)
            // Failing without a message still counts.
            try await store.setExecutionStatus(key: session.key, operationId: third.operationId, to: .failed)
            #expect(try test.executionRow(third.operationId)?.error == nil)
            // Closing a failed execution keeps its message.
            try await store.setExecutionStatus(key: session.key, operationId: first.operationId, to: .closed)
            #expect(try test.executionRow(first.operationId)?.error == "division by zero")

            statistics = try await store.sessionStatistics(key: session.key)
            #expect(statistics.statements == 3)
            #expect(statistics.failures == 2)
            #expect(try await store.sessionStatistics(key: other.key).failures == 0)
            #expect(try test.inspector.integer("failures", of: "sessions", where: ["key": .text(session.key)]) == 2)
            #expect(try test.inspector.integer("statements", of: "sessions", where: ["key": .text(session.key)]) == 3)
        }
    }

    @Test(arguments: Backend.all)
    func timesFollowTheStatuses(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada")
            let created = try await store.createExecution(key: session.key)
            let id = created.operationId
            let start = test.clock.now()
            #expect(created.createdAt.milliseconds == start)
            #expect(created.lastAttachedAt.milliseconds == start)
            #expect(created.startedAt == nil && created.endedAt == nil && created.closedAt == nil)
            test.clock.advance(by: .milliseconds(250))
            let started = try await store.setExecutionStatus(key: session.key, operationId: id, to: .started)
            #expect(started.startedAt?.milliseconds == start + 250)
            #expect(started.queuedTime == .milliseconds(250))
            test.clock.advance(by: .milliseconds(1000))
            let finished = try await store.setExecutionStatus(key: session.key, operationId: id, to: .finished)
            #expect(finished.endedAt?.milliseconds == start + 1250)
            #expect(finished.runTime == .milliseconds(1000))
            test.clock.advance(by: .milliseconds(10))
            let closed = try await store.setExecutionStatus(key: session.key, operationId: id, to: .closed)
            #expect(closed.closedAt?.milliseconds == start + 1260)
            #expect(closed.endedAt?.milliseconds == start + 1250)
        }
    }

    @Test(arguments: Backend.all)
    func unknownOperationAndClosedSessionRefuseAStatusChange(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada")
            await expectError(SessionStoreError.Code.operationNotFound) {
                try await store.setExecutionStatus(key: session.key, operationId: Kit.operationId(), to: .started)
            }
            await expectError(SessionStoreError.Code.handleFormat) {
                try await store.setExecutionStatus(key: session.key, operationId: "not-a-uuid", to: .started)
            }
            let execution = try await store.createExecution(key: session.key)
            try await store.setExecutionStatus(key: session.key, operationId: execution.operationId, to: .started)
            try await store.setExecutionStatus(key: session.key, operationId: execution.operationId, to: .finished)
            try await store.closeSession(key: session.key)
            let events = try test.loggedEventCount()
            await expectError(SessionStoreError.Code.sessionClosed) {
                try await store.setExecutionStatus(key: session.key, operationId: execution.operationId, to: .closed)
            }
            // Closed with its session; the refused change wrote nothing.
            #expect(try test.executionRow(execution.operationId)?.status == "closed")
            #expect(try test.loggedEventCount() == events)
        }
    }
}
