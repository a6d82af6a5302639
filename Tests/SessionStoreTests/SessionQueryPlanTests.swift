import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

/// The hot session queries use indexes, never a scan of `sessions`. The SQL is copied
/// from `SessionRecords` (and `SessionRecords.list` as it builds it), so a change there
/// that loses an index shows up here once the copy is updated.
@Suite struct SessionQueryPlanTests {
    /// `SessionRecords.columns`.
    static let columns = """
        id, key, user_id, client_session_id, data_source, type, version, identifier, utc_offset_seconds,
        client_address, impersonated_user, state, timeout_ms, created_at, last_access_at, expire_at,
        ended_at, end_reason, config_changes, statements, failures
        """

    struct PlanCase: Sendable, CustomTestStringConvertible {
        let name: String
        let sql: String
        let arguments: [DatabaseValue]
        /// Text that must appear in a plan line: the index it must use.
        let index: String
        var testDescription: String { name }
    }

    static let cases: [PlanCase] = [
        PlanCase(
            name: "find by key",
            sql: "SELECT \(columns) FROM sessions WHERE key = ?",
            arguments: [.text("00000000-0000-0000-0000-000000000000")],
            index: "sqlite_autoindex_sessions_1"),
        PlanCase(
            name: "newest by user and client session id",
            sql: """
                SELECT \(columns) FROM sessions
                WHERE user_id = ? AND client_session_id = ?
                ORDER BY id DESC
                LIMIT 1
                """,
            arguments: [.text("user-3"), .text("s-3")],
            index: "sessions_by_user_client_id"),
        PlanCase(
            name: "touch update",
            sql: """
                UPDATE sessions SET last_access_at = ?, expire_at = ?
                WHERE id = ? AND state IN ('idle', 'active') AND expire_at < ?
                """,
            arguments: [.integer(1_700_000_001_000), .integer(1_700_000_061_000), .integer(3), .integer(1_700_000_061_000)],
            index: "INTEGER PRIMARY KEY"),
        PlanCase(
            name: "record access update",
            sql: """
                UPDATE sessions SET last_access_at = max(last_access_at, ?)
                WHERE id = ? AND state IN ('idle', 'active')
                """,
            arguments: [.integer(1_700_000_001_000), .integer(3)],
            index: "INTEGER PRIMARY KEY"),
        PlanCase(
            name: "end update",
            sql: """
                UPDATE sessions SET state = ?, ended_at = ?, end_reason = ?, expire_at = NULL
                WHERE id = ? AND state IN ('idle', 'active', 'closing')
                """,
            arguments: [.text("closed"), .integer(1_700_000_001_000), .text("done"), .integer(3)],
            index: "INTEGER PRIMARY KEY"),
        PlanCase(
            name: "current sessions of a data source",
            sql: """
                SELECT \(columns) FROM sessions
                WHERE id > ? AND state IN ('idle', 'active') AND data_source = ?
                ORDER BY id
                LIMIT ?
                """,
            arguments: [.integer(0), .text("source-1"), .integer(100)],
            index: "sessions_live_by_data_source"),
        PlanCase(
            name: "live sessions of a user",
            sql: """
                SELECT \(columns) FROM sessions
                WHERE id > ? AND state IN ('idle', 'active') AND user_id = ?
                ORDER BY id
                LIMIT ?
                """,
            arguments: [.integer(0), .text("user-1"), .integer(100)],
            index: "sessions_by_user"),
        PlanCase(
            name: "live count",
            sql: "SELECT live FROM live_session_counts WHERE scope = ? AND name = ?",
            arguments: [.text("user"), .text("user-1")],
            index: "PRIMARY KEY"),
        PlanCase(
            name: "details of a session",
            sql: "SELECT name, value FROM session_details WHERE session_id = ?",
            arguments: [.integer(3)],
            index: "PRIMARY KEY"),
        PlanCase(
            name: "config value",
            sql: "SELECT value FROM session_config WHERE session_id = ? AND name = ?",
            arguments: [.integer(3), .text("c")],
            index: "PRIMARY KEY"),
        PlanCase(
            name: "parents of a session",
            sql: """
                SELECT sessions.key FROM session_links JOIN sessions ON sessions.id = session_links.parent_id
                WHERE session_links.child_id = ?
                ORDER BY session_links.parent_id
                """,
            arguments: [.integer(3)],
            index: "session_links_by_child"),
        PlanCase(
            name: "children of a session",
            sql: """
                SELECT sessions.key FROM session_links JOIN sessions ON sessions.id = session_links.child_id
                WHERE session_links.parent_id = ?
                ORDER BY session_links.child_id
                """,
            arguments: [.integer(3)],
            index: "PRIMARY KEY"),
    ]

    /// A file with the schema and enough rows that a plan is not trivially empty.
    func populated() async throws -> TestStore {
        let test = TestStore()
        let store = try await test.open()
        var keys: [String] = []
        for index in 0..<30 {
            var request = OpenSessionRequest(userId: "user-\(index % 5)", sessionId: "s-\(index)")
            request.dataSource = "source-\(index % 3)"
            request.clientAddress = "10.0.0.\(index % 4)"
            request.details = ["d": "\(index)"]
            request.config = ["c": "\(index)"]
            request.associates = Array(keys.suffix(1))
            let session = try await store.openSession(request)
            keys.append(session.key)
        }
        for key in keys.prefix(10) { try await store.closeSession(key: key) }
        await store.close()
        return test
    }

    @Test(arguments: cases)
    func queryUsesItsIndex(_ plan: PlanCase) async throws {
        let test = try await populated()
        let lines = try test.queryPlan(plan.sql, plan.arguments)
        #expect(!lines.isEmpty)
        for line in lines {
            #expect(!line.hasPrefix("SCAN sessions"), "full scan of sessions: \(lines)")
            if line.hasPrefix("SCAN") {
                #expect(line.contains("USING INDEX") || line.contains("USING COVERING INDEX"), "table scan: \(lines)")
            }
            #expect(!line.contains("TEMP B-TREE"), "sort in a temporary b-tree: \(lines)")
        }
        #expect(lines.contains { $0.contains(plan.index) }, "expected \(plan.index) in \(lines)")
    }
}
