import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

/// A state or status the file holds that no case of this build names (another program
/// wrote it, or a person) is a `STORAGE.CORRUPT` error naming the table, column and
/// value, for single reads and lists alike; it never reads as some other state.
@Suite struct UnknownStoredStateTests {
    /// Runs `sql` on its own read-write connection with the CHECK constraints off, as a
    /// program not bound by the schema's rules could.
    static func writeAroundChecks(_ test: TestStore, _ sql: String, _ arguments: [DatabaseValue]) throws {
        let database = try Database(path: test.path)
        try database.execute(sql: "PRAGMA ignore_check_constraints = ON")
        try database.execute(sql: sql, arguments)
        #expect(database.changesCount == 1)
    }

    /// Expects `body` to fail with `STORAGE.CORRUPT`, its message naming `column` and `value`.
    static func expectCorrupt<R>(
        _ column: String, _ value: String, sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () async throws -> R
    ) async {
        let error = await #expect(throws: SessionStoreError.self, sourceLocation: sourceLocation) {
            _ = try await body()
        }
        guard let error else { return }
        #expect(error.code == SessionStoreError.Code.storageCorrupt, "\(error)", sourceLocation: sourceLocation)
        #expect(error.message.contains(column), "\(error)", sourceLocation: sourceLocation)
        #expect(error.message.contains("\"\(value)\""), "\(error)", sourceLocation: sourceLocation)
    }

    @Test func anUnknownSessionStateIsACorruptionError() async throws {
        let test = TestStore()
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada", sessionId: "s1")

            try Self.writeAroundChecks(test, "UPDATE sessions SET state = 'hibernating' WHERE key = ?", [.text(session.key)])

            await Self.expectCorrupt("sessions.state", "hibernating") { try await store.session(key: session.key) }
            await Self.expectCorrupt("sessions.state", "hibernating") {
                try await store.listSessions(SessionFilter(states: .all))
            }
        }
    }

    @Test func anUnknownExecutionStatusIsACorruptionError() async throws {
        let test = TestStore()
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada", sessionId: "s1")
            let execution = try await store.createExecution(key: session.key)

            try Self.writeAroundChecks(
                test, "UPDATE executions SET status = 'paused' WHERE operation_id = ?", [.text(execution.operationId)])

            await Self.expectCorrupt("executions.status", "paused") {
                try await store.execution(key: session.key, operationId: execution.operationId)
            }
            await Self.expectCorrupt("executions.status", "paused") { try await store.listExecutions(key: session.key) }
        }
    }

    @Test func anUnknownStreamingQueryStateIsACorruptionError() async throws {
        let test = TestStore()
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada", sessionId: "s1")
            _ = try await store.registerQuery(key: session.key, queryId: "q-1", runId: "r-1")

            try Self.writeAroundChecks(test, "UPDATE streaming_queries SET state = 'draining' WHERE query_id = 'q-1'", [])

            await Self.expectCorrupt("streaming_queries.state", "draining") {
                try await store.query(key: session.key, queryId: "q-1")
            }
            await Self.expectCorrupt("streaming_queries.state", "draining") {
                try await store.listQueries(key: session.key)
            }
        }
    }
}
