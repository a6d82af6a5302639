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

    /// One stored event: the columns a suite checks and its JSON payload, decoded.
    struct StoredEvent: Equatable, CustomStringConvertible {
        var userId: String?
        var sessionKey: String?
        var payload: [String: String]
        var description: String {
            "user \(userId ?? "NULL"), session \(sessionKey ?? "NULL"), payload \(payload)"
        }
    }

    struct UndecodablePayload: Error, CustomStringConvertible {
        let payload: StoredValue
        var description: String { "an event payload is not a JSON object of strings: \(payload)" }
    }

    /// The stored events of `kind`, in order, each payload decoded from its stored JSON
    /// text (a payload that is not a JSON object of strings throws).
    func storedEvents(kind: EventKind) throws -> [StoredEvent] {
        let rows = try inspector.rows(
            ["user_id", "session_key", "payload"], of: "events", where: ["kind": .text(kind.rawValue)], orderedBy: "seq")
        return try rows.map { row in
            guard let text = row[2].text,
                let payload = try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))
            else { throw UndecodablePayload(payload: row[2]) }
            return StoredEvent(userId: row[0].text, sessionKey: row[1].text, payload: payload)
        }
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
