import Foundation
import SessionStore

/// What the conformance suites read about a store through its inspector: a session's
/// row id and expiry columns, its details and config, and event counts.
extension StoreFixture {
    /// The expiry columns of a session's row, as stored.
    struct RowTiming: Equatable, CustomStringConvertible {
        var expireAt: Int64?
        var lastAccessAt: Int64
        var description: String { "expire_at \(expireAt.map(String.init) ?? "NULL"), last_access_at \(lastAccessAt)" }
    }

    /// The stored `expire_at` and `last_access_at` of the session `key`.
    func timing(key: String) throws -> RowTiming? {
        guard let row = try inspector.rows(["expire_at", "last_access_at"], of: "sessions", where: ["key": .text(key)], orderedBy: nil).first,
            let lastAccessAt = row[1].integer
        else { return nil }
        return RowTiming(expireAt: row[0].integer, lastAccessAt: lastAccessAt)
    }

    /// The row id of the session `key`.
    func rowId(key: String) throws -> Int64? {
        try inspector.integer("id", of: "sessions", where: ["key": .text(key)])
    }

    /// Rows of `events` of `kind`, of one session when `key` is given.
    func eventCount(kind: EventKind, key: String? = nil) throws -> Int64 {
        var conditions: Conditions = ["kind": .text(kind.rawValue)]
        if let key { conditions["session_key"] = .text(key) }
        return try inspector.count("events", where: conditions)
    }

    /// The name-value rows of `table` (`session_details` or `session_config`) of the
    /// session `key`.
    func pairs(_ table: String, key: String) throws -> [String: String] {
        guard let id = try rowId(key: key) else { return [:] }
        let rows = try inspector.rows(["name", "value"], of: table, where: ["session_id": .integer(id)], orderedBy: nil)
        return Dictionary(rows.compactMap { row in row[0].text.flatMap { name in row[1].text.map { (name, $0) } } },
            uniquingKeysWith: { _, last in last })
    }

    /// One row of `events`, its JSON payload decoded.
    struct LoggedEvent: CustomStringConvertible {
        var seq: Int64
        var at: Int64
        var kind: String
        var sessionKey: String?
        var userId: String?
        var operationId: String?
        /// The payload's members; numbers and booleans as their JSON text.
        var payload: [String: String]

        var description: String {
            "#\(seq) \(kind) at \(at), session \(sessionKey ?? "NULL"), operation \(operationId ?? "NULL"), payload \(payload)"
        }
    }

    struct UndecodableEventPayload: Error, CustomStringConvertible {
        let payload: StoredValue
        var description: String { "an event payload is not a JSON object: \(payload)" }
    }

    /// The events that meet `conditions`, in sequence order, each payload decoded from
    /// its stored JSON text (one that is not a JSON object throws). A member that is JSON
    /// `null` is left out, as a path that finds nothing.
    func loggedEvents(where conditions: Conditions = [:]) throws -> [LoggedEvent] {
        let rows = try inspector.rows(
            ["seq", "at", "kind", "session_key", "user_id", "operation_id", "payload"], of: "events", where: conditions, orderedBy: "seq")
        return try rows.map { row in
            guard let seq = row[0].integer, let at = row[1].integer, let kind = row[2].text, let text = row[6].text,
                let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            else { throw UndecodableEventPayload(payload: row[6]) }
            var payload: [String: String] = [:]
            for (name, value) in object {
                switch value {
                case is NSNull: continue
                case let string as String: payload[name] = string
                default: payload[name] = "\(value)"
                }
            }
            return LoggedEvent(seq: seq, at: at, kind: kind, sessionKey: row[3].text, userId: row[4].text, operationId: row[5].text, payload: payload)
        }
    }

    /// Every row of `table`, every column, each row one line (`|`-separated), sorted.
    func tableRows(_ table: String) throws -> [String] {
        let columns = try inspector.columns(of: table)
        return try inspector.rows(columns, of: table, where: [:], orderedBy: nil).map { row in
            row.map(\.description).joined(separator: "|")
        }.sorted()
    }

    /// Every row of every table of the schema (``tableRows(_:)``), by table: two dumps are
    /// equal exactly when what the store holds is (but for bytes, which the inspector
    /// reads as `NULL`: `executions.request`).
    func tableDump() throws -> [String: [String]] {
        var dump: [String: [String]] = [:]
        for table in try inspector.tableCounts().keys {
            dump[table] = try tableRows(table)
        }
        return dump
    }
}
