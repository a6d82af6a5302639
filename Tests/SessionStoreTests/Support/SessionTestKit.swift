import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

/// Readers of the file shared by the `Session*Tests` suites: table counts, a session's
/// expiry columns and event counts.
enum SessionTestKit {
    /// `SELECT count(*)` of every table in the file, by table name.
    static func tableCounts(_ test: TestStore) throws -> [String: Int64] {
        try test.inspect { db in
            let tables = try db.fetchAll(sql: "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name") {
                $0.string(0)
            }
            var counts: [String: Int64] = [:]
            for table in tables {
                counts[table] = try db.fetchInt64(sql: "SELECT count(*) FROM \"\(table)\"") ?? -1
            }
            return counts
        }
    }

    /// The expiry columns of a session's row.
    struct RowTiming: Equatable, CustomStringConvertible {
        var expireAt: Int64?
        var lastAccessAt: Int64
        var description: String { "expire_at \(expireAt.map(String.init) ?? "NULL"), last_access_at \(lastAccessAt)" }
    }

    static func timing(_ test: TestStore, key: String) throws -> RowTiming? {
        try test.inspect { db in
            try db.fetchOne(sql: "SELECT expire_at, last_access_at FROM sessions WHERE key = ?", [.text(key)]) {
                RowTiming(expireAt: $0.optionalInt64(0), lastAccessAt: $0.int64(1))
            }
        }
    }

    /// Rows of `events` of `kind`, for one session when `key` is given.
    static func eventCount(_ test: TestStore, kind: EventKind, key: String? = nil) throws -> Int64 {
        if let key {
            return try test.count("SELECT count(*) FROM events WHERE kind = ? AND session_key = ?", [.text(kind.rawValue), .text(key)])
        }
        return try test.count("SELECT count(*) FROM events WHERE kind = ?", [.text(kind.rawValue)])
    }
}
