import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

/// The execution queries' plans: copied verbatim from `ExecutionRecords.swift`, so a
/// change to a query or an index that makes SQLite scan the table is caught here.
@Suite struct ExecutionQueryPlanTests {
    /// `ExecutionRecords.select`.
    static let select = """
        SELECT executions.id, executions.session_id, sessions.key, sessions.user_id, sessions.data_source,
            executions.operation_id, executions.job_tag, executions.status, executions.statement,
            executions.reattachable, executions.attached, executions.timeout_ms, executions.created_at,
            executions.started_at, executions.last_attached_at, executions.ended_at, executions.closed_at,
            executions.abandoned_at, executions.error
        FROM executions JOIN sessions ON sessions.id = executions.session_id
        """

    struct Query: Sendable, CustomTestStringConvertible {
        let name: String
        let sql: String
        let arguments: [DatabaseValue]
        /// A fragment one plan line must contain: the index it must use.
        let uses: String
        var testDescription: String { name }
    }

    static let queries: [Query] = [
        Query(
            name: "running executions of a session",
            sql: """
                \(select)
                WHERE executions.session_id = ?
                    AND executions.status IN ('pending', 'started', 'analyzed', 'readyForExecution')
                ORDER BY executions.id
                """, arguments: [.integer(1)], uses: "executions_running"),
        Query(
            name: "running count of a session",
            sql: """
                SELECT count(*) FROM executions
                WHERE session_id = ? AND status IN ('pending', 'started', 'analyzed', 'readyForExecution')
                """, arguments: [.integer(1)], uses: "executions_running"),
        Query(
            name: "attached running execution of a session",
            sql: """
                SELECT 1 FROM executions
                WHERE session_id = ? AND status IN ('pending', 'started', 'analyzed', 'readyForExecution')
                    AND attached = 1
                LIMIT 1
                """, arguments: [.integer(1)], uses: "executions_running"),
        Query(
            name: "lookup by operation id",
            sql: "\(select) WHERE executions.session_id = ? AND executions.operation_id = ?",
            arguments: [.integer(1), .text("00000000-0000-0000-0000-000000000000")],
            uses: "sqlite_autoindex_executions_1"),
        Query(
            name: "running executions by tag",
            sql: """
                \(select)
                JOIN execution_tags ON execution_tags.execution_id = executions.id
                WHERE execution_tags.session_id = ? AND execution_tags.tag = ?
                    AND executions.status IN ('pending', 'started', 'analyzed', 'readyForExecution')
                ORDER BY executions.id
                """, arguments: [.integer(1), .text("etl")], uses: "SEARCH execution_tags USING PRIMARY KEY"),
        Query(
            name: "tags of an execution",
            sql: "SELECT tag FROM execution_tags WHERE execution_id = ? ORDER BY tag", arguments: [.integer(1)],
            uses: "execution_tags_by_execution"),
        Query(
            name: "abandonment",
            sql: """
                \(select)
                WHERE executions.attached = 0 AND executions.status <> 'closed'
                    AND executions.last_attached_at <= ?
                ORDER BY executions.last_attached_at
                LIMIT ?
                """, arguments: [.integer(1_700_000_000_000), .integer(256)], uses: "executions_detached"),
        Query(
            name: "per-execution deadline",
            sql: """
                \(select)
                WHERE executions.status IN ('pending', 'started', 'analyzed', 'readyForExecution')
                    AND executions.deadline_at <= ?
                ORDER BY executions.deadline_at
                LIMIT ?
                """, arguments: [.integer(1_700_000_000_000), .integer(256)], uses: "executions_by_deadline"),
        Query(
            name: "running executions across sessions",
            sql: """
                \(select)
                WHERE executions.status IN ('pending', 'started', 'analyzed', 'readyForExecution')
                ORDER BY executions.id
                LIMIT ?
                """, arguments: [.integer(10_000)], uses: "executions_running_by_id"),
        Query(
            name: "abandoned tombstones",
            sql: """
                \(select)
                WHERE executions.abandoned_at IS NOT NULL
                ORDER BY executions.abandoned_at DESC
                LIMIT ?
                """, arguments: [.integer(10_000)], uses: "executions_abandoned"),
        Query(
            name: "last end", sql: "SELECT max(ended_at) FROM executions", arguments: [], uses: "executions_by_end"),
    ]

    /// A plan line that reads a whole table without an index.
    static func isBareScan(_ line: String, of table: String) -> Bool {
        line.hasPrefix("SCAN \(table)") && !line.contains("USING")
    }

    @Test(arguments: queries)
    func usesItsIndexAndScansNoTable(_ query: Query) async throws {
        let test = TestStore()
        let store = try await test.open()
        // Some rows, so the plan is not that of an empty file.
        let session = try await store.openSession(userId: "ada")
        for index in 0..<3 {
            let execution = try await store.createExecution(session: session.key, tags: ["etl", "t\(index)"], timeout: .seconds(60))
            try await store.detachExecution(session: session.key, operationId: execution.operationId)
        }
        await store.close()

        let plan = try test.queryPlan(query.sql, query.arguments)
        let shown = plan.joined(separator: "\n")
        #expect(plan.contains { $0.contains(query.uses) }, "\(query.name) does not use \(query.uses):\n\(shown)")
        for table in ["executions", "execution_tags", "sessions"] {
            #expect(!plan.contains { Self.isBareScan($0, of: table) }, "\(query.name) scans \(table):\n\(shown)")
        }
    }

    @Test func theBareScanCheckRecognisesAScan() throws {
        #expect(Self.isBareScan("SCAN executions", of: "executions"))
        #expect(!Self.isBareScan("SCAN executions USING INDEX executions_running", of: "executions"))
        #expect(!Self.isBareScan("SEARCH executions USING INDEX executions_detached (last_attached_at<?)", of: "executions"))
        // And that the plan helper really reports one for an unindexed filter.
        let test = TestStore()
        _ = test.directory
        let database = try Database(path: test.path)
        try database.execute(sql: "CREATE TABLE executions (id INTEGER PRIMARY KEY, statement TEXT)")
        let plan = try test.queryPlan("SELECT id FROM executions WHERE statement = ?", [.text("x")])
        #expect(plan.contains { Self.isBareScan($0, of: "executions") }, "\(plan)")
    }
}
