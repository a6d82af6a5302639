import Foundation
import SessionStore

/// What the session suites of the conformance folder read about a store beyond
/// ``StoreFixture``'s own readers: rows that belong to a session, event payloads and the
/// columns a touch may change. Built only on the inspector's primitives.
extension StoreFixture {
    /// Rows of `table` whose `column` (`session_id` unless told) is the row id of the
    /// session `key`; 0 when there is no such session.
    func count(_ table: String, ofSession key: String, column: String = "session_id") throws -> Int64 {
        guard let id = try rowId(key: key) else { return 0 }
        return try inspector.count(table, where: [column: .integer(id)])
    }

    /// Every session row's key, state, expiry and last access, in row order: what a
    /// touch may change, one line a session.
    func touchableRows() throws -> [String] {
        let columns = ["key", "state", "expire_at", "last_access_at"]
        return try inspector.rows(columns, of: "sessions", where: [:], orderedBy: "id").map { row in
            row.map { value in
                switch value {
                case .text(let text): text
                case .integer(let integer): String(integer)
                case .null: "NULL"
                }
            }.joined(separator: " ")
        }
    }
}
