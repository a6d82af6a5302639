import Foundation
import SessionStore
import Testing

/// When a session ends, Spark Connect releases its executions: every one ends `closed`
/// with `closedAt` set, whatever status it had. On every backend.
@Suite struct ExecutionReleaseTests {
    typealias Kit = ExecutionTestKit

    /// One execution in each status of the machine, in a session of `timeout`; returns
    /// the session's key and the operation ids by status.
    static func sessionWithEveryStatus(
        _ store: SessionStore, timeout: SessionTimeout
    ) async throws -> (key: String, byStatus: [ExecutionStatus: String]) {
        let session = try await store.openSession(userId: "ada", timeout: timeout)
        var byStatus: [ExecutionStatus: String] = [:]
        for status in ExecutionStatus.allCases {
            let execution = try await store.createExecution(key: session.key, reattachable: true)
            try await Kit.bring(store, session: session.key, operationId: execution.operationId, to: status)
            byStatus[status] = execution.operationId
        }
        // A running one detached, so the session is not spared by its attached executions.
        for (status, id) in byStatus where status.isRunning {
            try await store.detachExecution(key: session.key, operationId: id)
        }
        return (session.key, byStatus)
    }

    /// The rows of the session's executions as the inspector reads them.
    static func rows(_ test: StoreFixture, key: String) throws -> [(id: String, status: String, closedAt: Int64?)] {
        guard let sessionId = try test.rowId(key: key) else { return [] }
        return try test.inspector.rows(
            ["operation_id", "status", "closed_at"], of: "executions", where: ["session_id": .integer(sessionId)], orderedBy: "id"
        ).map { (id: $0[0].text ?? "NULL", status: $0[1].text ?? "NULL", closedAt: $0[2].integer) }
    }

    /// Checks that every execution is closed at `endedAt` (the one closed before keeps its
    /// own time), and that each running one was canceled, then closed, each finished one
    /// closed, with one status event each.
    static func expectReleased(
        _ test: StoreFixture, key: String, byStatus: [ExecutionStatus: String], endedAt: Int64,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let rows = try rows(test, key: key)
        #expect(rows.count == ExecutionStatus.allCases.count, sourceLocation: sourceLocation)
        for row in rows {
            #expect(row.status == "closed", "\(row.id)", sourceLocation: sourceLocation)
            #expect(row.closedAt != nil, "\(row.id)", sourceLocation: sourceLocation)
            if row.id != byStatus[.closed] {
                #expect(row.closedAt == endedAt, "\(row.id)", sourceLocation: sourceLocation)
            }
        }
        for (status, id) in byStatus where status != .closed {
            let steps = try test.loggedEvents(where: [
                "kind": .text(EventKind.executionStatus.rawValue), "operation_id": .text(id), "at": .integer(endedAt),
            ]).map { $0.payload["to"] ?? "NULL" }
            #expect(steps == (status.isRunning ? ["canceled", "closed"] : ["closed"]), "\(status)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: Backend.all)
    func closingASessionClosesEveryExecution(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let (key, byStatus) = try await Self.sessionWithEveryStatus(store, timeout: .never)
            let bystander = try await store.openSession(userId: "ada")
            let elsewhere = try await store.createExecution(key: bystander.key)
            test.clock.advance(by: .seconds(3))
            try await store.closeSession(key: key)
            try Self.expectReleased(test, key: key, byStatus: byStatus, endedAt: test.clock.now())
            #expect(try await store.listExecutions(key: key).allSatisfy { $0.status == .closed && $0.closedAt != nil })
            #expect(try test.executionRow(elsewhere.operationId)?.status == "pending")
        }
    }

    @Test(arguments: Backend.all)
    func expiringASessionClosesEveryExecution(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let (key, byStatus) = try await Self.sessionWithEveryStatus(store, timeout: .after(.seconds(10)))
            test.clock.advance(by: .seconds(20))
            let report = try await store.sweep()
            #expect(report.expiredSessions.keys == [key])
            try Self.expectReleased(test, key: key, byStatus: byStatus, endedAt: test.clock.now())
            #expect(try await store.session(key: key)?.state == .expired)
        }
    }

    /// Nothing is left for the abandonment pass: a released execution is closed, never
    /// abandoned later.
    @Test(arguments: Backend.all)
    func releasedExecutionsAreNotAbandonedLater(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.detachedTimeout = .seconds(1) } body: { store in
            let (key, _) = try await Self.sessionWithEveryStatus(store, timeout: .never)
            try await store.closeSession(key: key)
            test.clock.advance(by: .seconds(60))
            _ = try await store.sweep()
            #expect(try await store.listAbandonedExecutions().isEmpty)
            #expect(try Self.rows(test, key: key).allSatisfy { $0.status == "closed" })
        }
    }
}
