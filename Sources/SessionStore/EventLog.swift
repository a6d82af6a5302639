import Foundation
import SessionStoreSQLite

/// The SQL of the `events` table.
enum EventLog {
    /// Who an event is about; the columns of `events` that name a session.
    struct Subject {
        var sessionKey: String?
        var userId: String?
        var dataSource: String?
        var operationId: String?
    }

    static func append(
        _ db: Database, at time: Int64, kind: String, subject: Subject, payload: [String: String] = [:]
    ) throws(SQLiteError) {
        try append(db, at: time, kind: kind, subject: subject, payloadJSON: JSONText.object(payload))
    }

    /// Appends an event whose payload was encoded beforehand (off the writer thread).
    static func append(_ db: Database, at time: Int64, kind: String, subject: Subject, payloadJSON: String) throws(SQLiteError) {
        try db.execute(
            sql: """
                INSERT INTO events (at, kind, session_key, user_id, data_source, operation_id, payload)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            [
                .integer(time), .text(kind), DatabaseValue(subject.sessionKey), DatabaseValue(subject.userId),
                DatabaseValue(subject.dataSource), DatabaseValue(subject.operationId), .text(payloadJSON),
            ])
    }

    static func read(_ db: Database, after seq: Int64, limit: Int, filter: EventFilter) throws(SQLiteError) -> [StoreEvent] {
        let columns = "seq, at, kind, session_key, user_id, data_source, operation_id, payload"
        let limit = Int64(limit)
        switch (filter.sessionKey, filter.kind) {
        case (let key?, let kind?):
            return try db.fetchAll(
                sql: """
                    SELECT \(columns) FROM events
                    WHERE session_key = ? AND seq > ? AND kind = ?
                    ORDER BY seq LIMIT ?
                    """, [.text(key), .integer(seq), .text(kind), .integer(limit)], map: event)
        case (let key?, nil):
            return try db.fetchAll(
                sql: """
                    SELECT \(columns) FROM events
                    WHERE session_key = ? AND seq > ?
                    ORDER BY seq LIMIT ?
                    """, [.text(key), .integer(seq), .integer(limit)], map: event)
        case (nil, let kind?):
            return try db.fetchAll(
                sql: """
                    SELECT \(columns) FROM events
                    WHERE kind = ? AND seq > ?
                    ORDER BY seq LIMIT ?
                    """, [.text(kind), .integer(seq), .integer(limit)], map: event)
        case (nil, nil):
            return try db.fetchAll(
                sql: """
                    SELECT \(columns) FROM events
                    WHERE seq > ?
                    ORDER BY seq LIMIT ?
                    """, [.integer(seq), .integer(limit)], map: event)
        }
    }

    private static func event(_ row: Row) -> StoreEvent {
        StoreEvent(
            seq: row.int64(0), at: Timestamp(milliseconds: row.int64(1)), kind: row.string(2),
            sessionKey: row.optionalString(3), userId: row.optionalString(4), dataSource: row.optionalString(5),
            operationId: row.optionalString(6), payload: JSONText.stringObject(row.string(7)))
    }
}

/// JSON for event payloads: an object of string values, written without Foundation's
/// encoder on the write path.
enum JSONText {
    static func object(_ fields: [String: String]) -> String {
        guard !fields.isEmpty else { return "{}" }
        var text = "{"
        text.reserveCapacity(fields.reduce(2) { $0 + $1.key.utf8.count + $1.value.utf8.count + 6 })
        for (index, name) in fields.keys.sorted().enumerated() {
            if index > 0 { text += "," }
            appendString(name, to: &text)
            text += ":"
            appendString(fields[name] ?? "", to: &text)
        }
        return text + "}"
    }

    static func appendString(_ value: String, to text: inout String) {
        text += "\""
        // Most values (ids, numbers, states) need no escaping: append them whole.
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            text += value
            text += "\""
            return
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case _ where scalar.value < 0x20:
                text += String(format: "\\u%04x", scalar.value)
            default:
                text.unicodeScalars.append(scalar)
            }
        }
        text += "\""
    }

    static func array(_ values: [String]) -> String {
        var text = "["
        for (index, value) in values.enumerated() {
            if index > 0 { text += "," }
            appendString(value, to: &text)
        }
        return text + "]"
    }

    static func stringArray(_ text: String) -> [String] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String]) ?? []
    }

    static func stringObject(_ text: String) -> [String: String] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            return [:]
        }
        return object.compactMapValues { value in
            switch value {
            case let string as String: string
            case let number as NSNumber: number.stringValue
            default: nil
            }
        }
    }
}
