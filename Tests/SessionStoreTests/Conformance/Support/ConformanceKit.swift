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
}
