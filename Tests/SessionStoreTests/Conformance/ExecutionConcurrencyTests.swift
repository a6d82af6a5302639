import Foundation
import SessionStore
import Testing

/// Racing creations against the per-session limit, and racing status changes, on every
/// backend.
@Suite struct ExecutionConcurrencyTests {
    typealias Kit = ExecutionTestKit

    /// What one racing call ended with.
    enum Outcome: Sendable {
        case created(String)
        case refused(SessionStoreError)
        case other(String)
    }

    static func race(_ count: Int, _ body: @escaping @Sendable () async throws -> String) async -> [Outcome] {
        await withTaskGroup(of: Outcome.self) { group in
            for _ in 0..<count {
                group.addTask {
                    do {
                        return .created(try await body())
                    } catch let error as SessionStoreError {
                        return .refused(error)
                    } catch {
                        return .other("\(error)")
                    }
                }
            }
            var outcomes: [Outcome] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
    }

    @Test(arguments: Backend.all)
    func twentyConcurrentCreatesAgainstALimitOfFiveAdmitExactlyFive(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.limits.maxConcurrentExecutionsPerSession = 5 } body: { store in
            let session = try await store.openSession(userId: "ada")
            let key = session.key

            let outcomes = await Self.race(20) {
                try await store.createExecution(key: key, statement: "select 1").operationId
            }
            let created = outcomes.compactMap { if case .created(let id) = $0 { id } else { nil } }
            let refused = outcomes.compactMap { if case .refused(let error) = $0 { error } else { nil } }
            let other = outcomes.compactMap { if case .other(let text) = $0 { text } else { nil } }
            #expect(created.count == 5)
            #expect(Set(created).count == 5)
            #expect(refused.count == 15)
            #expect(other.isEmpty, "\(other)")
            for error in refused {
                #expect(error.code == "LIMIT_EXCEEDED.EXECUTIONS_PER_SESSION")
                #expect(error.message.contains("5"), "\(error.message)")
            }
            #expect(try test.inspector.count("executions") == 5)
            #expect(try test.loggedEventCount(kind: "execution.created") == 5)
            // Refused creations are rolled back whole: not counted as statements.
            #expect(try await store.sessionStatistics(key: key).statements == 5)
            let stored = Set(try await store.listExecutions(key: key).map(\.operationId))
            #expect(stored == Set(created))

            // Finishing one frees exactly one slot.
            let first = try #require(created.first)
            try await store.setExecutionStatus(key: key, operationId: first, to: .started)
            try await store.setExecutionStatus(key: key, operationId: first, to: .finished)
            let replacement = try await store.createExecution(key: key)
            #expect(replacement.status == .pending)
            await expectError("LIMIT_EXCEEDED.EXECUTIONS_PER_SESSION") {
                try await store.createExecution(key: key)
            }
            #expect(try test.inspector.count("executions") == 6)

            // Any way out of running frees a slot: cancel (interrupt) one.
            let interrupted = try await store.interrupt(key: key, operationId: replacement.operationId)
            #expect(interrupted.operationIds == [replacement.operationId])
            try await store.createExecution(key: key)
            await expectError("LIMIT_EXCEEDED.EXECUTIONS_PER_SESSION") {
                try await store.createExecution(key: key)
            }
        }
    }

    @Test(arguments: Backend.all)
    func theLimitIsPerSessionAndCountsDetachedRunningExecutions(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.limits.maxConcurrentExecutionsPerSession = 2 } body: { store in
            let a = try await store.openSession(userId: "ada")
            let b = try await store.openSession(userId: "ada")
            let first = try await store.createExecution(key: a.key, reattachable: true)
            try await store.createExecution(key: a.key)
            // A detached execution still runs, so it still counts.
            try await store.detachExecution(key: a.key, operationId: first.operationId)
            await expectError("LIMIT_EXCEEDED.EXECUTIONS_PER_SESSION") {
                try await store.createExecution(key: a.key)
            }
            // Another session has its own allowance.
            try await store.createExecution(key: b.key)
            try await store.createExecution(key: b.key)
            #expect(try test.inspector.count("executions") == 4)
        }
    }

    @Test(arguments: Backend.all)
    func racingStatusChangesFromTheSameStatusLetExactlyOneWin(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada")
            let key = session.key
            let execution = try await store.createExecution(key: key)
            let id = execution.operationId
            try await Kit.bring(store, session: key, operationId: id, to: .readyForExecution)
            let eventsBefore = try test.loggedEventCount(kind: "execution.status_changed", operationId: id)

            let targets: [ExecutionStatus] = [.finished, .failed, .canceled, .timedOut, .finished, .canceled, .failed, .timedOut]
            let outcomes = await withTaskGroup(of: (ExecutionStatus, Outcome).self) { group in
                for target in targets {
                    group.addTask {
                        do {
                            let moved = try await store.setExecutionStatus(
                                key: key, operationId: id, to: target, error: target == .failed ? "raced" : nil)
                            return (target, .created(moved.status.rawValue))
                        } catch let error as SessionStoreError {
                            return (target, .refused(error))
                        } catch {
                            return (target, .other("\(error)"))
                        }
                    }
                }
                var outcomes: [(ExecutionStatus, Outcome)] = []
                for await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            let winners = outcomes.compactMap { target, outcome in
                if case .created = outcome { target } else { nil }
            }
            let losers = outcomes.compactMap { _, outcome in
                if case .refused(let error) = outcome { error } else { nil }
            }
            #expect(winners.count == 1)
            #expect(losers.count == targets.count - 1)
            #expect(losers.allSatisfy { $0.code == SessionStoreError.Code.invalidTransition })
            let winner = try #require(winners.first)
            #expect(try test.executionRow(id)?.status == winner.rawValue)
            #expect(try test.loggedEventCount(kind: "execution.status_changed", operationId: id) == eventsBefore + 1)
            #expect(try await store.sessionStatistics(key: key).failures == (winner == .failed ? 1 : 0))
        }
    }
}
