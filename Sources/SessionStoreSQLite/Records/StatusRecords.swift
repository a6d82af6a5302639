import Foundation
import SessionStoreCore

/// The SQL of the file's own inspection: journal mode, tables and their sizes, and
/// SQLite's integrity checks. Nothing here is on a request path.
struct StatusRecords {
    let db: Database

    /// SQLite's journal mode, `wal` for a file this library opened.
    func journalMode() throws(SQLiteError) -> String? {
        try db.fetchOne(sql: "PRAGMA journal_mode") { $0.string(0) }
    }

    /// The names of the tables of the schema, SQLite's own left out, sorted.
    func tableNames() throws(SQLiteError) -> [String] {
        try db.fetchAll(
            sql: """
                SELECT name FROM sqlite_schema
                WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
                ORDER BY name
                """
        ) { $0.string(0) }
    }

    /// The rows `table` holds, counted by reading it whole. `table` must be a name read
    /// from the schema (``tableNames(_:)``): it is quoted, not bound.
    func rowCount(table: String) throws(SQLiteError) -> Int64 {
        let quoted = table.replacingOccurrences(of: "\"", with: "\"\"")
        return try db.fetchInt64(sql: "SELECT count(*) FROM \"\(quoted)\"") ?? 0
    }

    /// `PRAGMA integrity_check`: `["ok"]` when the file is sound, else one line per problem.
    func integrityCheck() throws(SQLiteError) -> [String] {
        try db.fetchAll(sql: "PRAGMA integrity_check") { $0.string(0) }
    }

    /// `PRAGMA foreign_key_check`: one line per row whose parent is missing, as
    /// `table rowid <id> → parent table`.
    func foreignKeyViolations() throws(SQLiteError) -> [String] {
        try db.fetchAll(sql: "PRAGMA foreign_key_check") { row in
            "\(row.string(0)) rowid \(row.optionalInt64(1).map(String.init) ?? "?") → \(row.string(2))"
        }
    }
}
