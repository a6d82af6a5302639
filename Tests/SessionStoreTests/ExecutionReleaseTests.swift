import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

/// When a session ends, Spark Connect releases its executions: every one ends `closed`
/// with `closedAt` set, whatever status it had.
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

    /// The rows of the session's executions as another connection reads them.
    static func rows(_ test: TestStore, key: String) throws -> [(id: String, status: String, closedAt: Int64?)] {
        try test.inspect { db in
            try db.fetchAll(
                sql: """
                    SELECT executions.operation_id, executions.status, executions.closed_at
                    FROM executions JOIN sessions ON sessions.id = executions.session_id
                    WHERE sessions.key = ? ORDER BY executions.id
                    """, [.text(key)]
            ) { (id: $0.string(0), status: $0.string(1), closedAt: $0.optionalInt64(2)) }
        }
    }

    /// Checks that every execution is closed at `endedAt` (the one closed before keeps its
    /// own time), and that each running one was canceled, then closed, each finished one
    /// closed, with one status event each.
    static func expectReleased(
        _ test: TestStore, key: String, byStatus: [ExecutionStatus: String], endedAt: Int64,
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
            let steps = try test.inspect { db in
                try db.fetchAll(
                    sql: """
                        SELECT json_extract(payload, '$.to') FROM events
                        WHERE kind = 'execution.status_changed' AND operation_id = ? AND at = ?
                        ORDER BY seq
                        """, [.text(id), .integer(endedAt)]
                ) { $0.string(0) }
            }
            #expect(steps == (status.isRunning ? ["canceled", "closed"] : ["closed"]), "\(status)", sourceLocation: sourceLocation)
        }
    }

    @Test func closingASessionClosesEveryExecution() async throws {
        let test = TestStore()
        try await test.withStore { store in
            let (key, byStatus) = try await Self.sessionWithEveryStatus(store, timeout: .never)
            let bystander = try await store.openSession(userId: "ada")
            let elsewhere = try await store.createExecution(key: bystander.key)
            test.clock.advance(by: .seconds(3))
            try await store.closeSession(key: key)
            try Self.expectReleased(test, key: key, byStatus: byStatus, endedAt: test.clock.now())
            #expect(try await store.listExecutions(key: key).allSatisfy { $0.status == .closed && $0.closedAt != nil })
            #expect(try Kit.row(test, elsewhere.operationId)?.status == "pending")
        }
    }

    @Test func expiringASessionClosesEveryExecution() async throws {
        let test = TestStore()
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
    @Test func releasedExecutionsAreNotAbandonedLater() async throws {
        let test = TestStore()
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
