import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

/// Two users with one of everything each, and readers of what a principal was shown: the
/// fixture of `ScopedAccessTests`.
enum ScopedAccessKit {
    /// A config name matching the default redaction pattern, and the value each user sets.
    static let secretName = "spark.hadoop.fs.s3a.secret.key"
    static func secretValue(_ user: String) -> String { "AKIA-\(user)-secret-value" }

    /// What one user holds: a session with a child, a running reattachable execution
    /// tagged `etl`, a streaming query and a resource.
    struct Holdings: Sendable {
        let user: String
        let key: String
        let childKey: String
        let operationId: String
        let queryId: String
        let resource: (kind: String, name: String)

        /// Every session key, the user id and the secret config value: what another
        /// principal must never be shown.
        var secrets: [String] { [key, childKey, user, ScopedAccessKit.secretValue(user)] }
    }

    /// Opens the holdings of `user` through the unscoped store.
    static func holdings(_ store: SessionStore, user: String) async throws -> Holdings {
        let session = try await store.openSession(
            userId: user, sessionId: "\(user)-main", dataSource: "warehouse", config: [secretName: secretValue(user)])
        let child = try await store.openSession(userId: user, sessionId: "\(user)-child", dataSource: "warehouse")
        try await store.addAssociate(parentKey: session.key, childKey: child.key)
        let execution = try await store.createExecution(key: session.key, tags: ["etl"], reattachable: true)
        try await store.setExecutionStatus(key: session.key, operationId: execution.operationId, to: .started)
        let queryId = "\(user)-query"
        try await store.registerQuery(key: session.key, queryId: queryId, runId: "run-1", tags: ["etl"])
        try await store.addResource(key: session.key, kind: "view", name: "\(user)-view", bytes: 10)
        return Holdings(
            user: user, key: session.key, childKey: child.key, operationId: execution.operationId, queryId: queryId,
            resource: ("view", "\(user)-view"))
    }

    /// What a call answered, with `key` written as `KEY`: the value, or the error's code
    /// and message.
    static func outcome(key: String, _ body: () async throws -> Any?) async -> String {
        let text: String
        do {
            text = "value: \(String(describing: try await body()))"
        } catch let error as SessionStoreError {
            text = "error: \(error.code.rawValue): \(error.message)"
        } catch {
            text = "unexpected: \(error)"
        }
        return text.replacingOccurrences(of: key, with: "KEY")
    }

    /// Every row of every table, each as text, sorted per table: two dumps are equal
    /// exactly when the file's content is.
    static func dump(_ test: TestStore) throws -> [String: [String]] {
        try test.inspect { db in
            let tables = try db.fetchAll(sql: "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name") {
                $0.string(0)
            }
            var dump: [String: [String]] = [:]
            for table in tables {
                let columns = try db.fetchAll(sql: "SELECT name FROM pragma_table_info(?)", [.text(table)]) { $0.string(0) }
                let row = columns.map { "quote(\"\($0)\")" }.joined(separator: " || '|' || ")
                dump[table] = try db.fetchAll(sql: "SELECT \(row) FROM \"\(table)\"") { $0.string(0) }.sorted()
            }
            return dump
        }
    }

    /// `value` as JSON text, to search for keys and user ids anywhere in it.
    static func json(_ value: some Encodable) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }

    /// Records an issue for each of `secrets` found in `text`.
    static func expectNone(
        of secrets: [String], in text: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        for secret in secrets {
            #expect(!text.contains(secret), "\(what) shows \(secret): \(text)", sourceLocation: sourceLocation)
        }
    }
}
