import SessionStoreCore

extension EventLog {
    /// Up to `limit` events after `seq`, only those of `kinds` (every kind when `nil`) and
    /// of `userId` (every user when `nil`), read in one snapshot with the newest sequence
    /// number, so the page tells how far it covers the log even when no such event is new.
    func page(after seq: Int64, kinds: Set<EventKind>?, userId: String?, limit: Int
    ) throws(SQLiteError) -> EventPage {
        let newest = try lastSequence()
        guard newest > seq else { return EventPage(events: [], through: max(seq, newest)) }
        // The SQL text is the same whatever kinds are asked for (one statement, one plan,
        // one cache entry), so no caller can make it long or make the cache grow. One kind:
        // its index gives the rows in order. Several: the rows in sequence order (`+kind`
        // keeps SQLite off that index, with which it would sort every match of the range to
        // return the first page), read until the page is full.
        var arguments: [DatabaseValue] = [.integer(seq), .integer(newest)]
        let kindClause: String
        switch kinds.map({ $0.map(\.rawValue).sorted() }) {
        case nil:
            kindClause = ""
        case let names? where names.count == 1:
            kindClause = "AND kind = ?"
            arguments.append(.text(names[0]))
        case let names?:
            kindClause = "AND +kind IN (SELECT value FROM json_each(?))"
            var list = "["
            for (index, name) in names.enumerated() {
                if index > 0 { list += "," }
                JSONText.appendString(name, to: &list)
            }
            arguments.append(.text(list + "]"))
        }
        if let userId { arguments.append(.text(userId)) }
        let userClause = userId == nil ? "" : "AND user_id = ?"
        arguments.append(.integer(Int64(limit)))
        let events = try db.fetchAll(
            sql: """
                SELECT \(Self.columns) FROM events
                WHERE seq > ? AND seq <= ? \(kindClause) \(userClause)
                ORDER BY seq LIMIT ?
                """, arguments, map: Self.event)
        let through = events.count == limit ? events[events.count - 1].seq : newest
        return EventPage(events: events, through: through)
    }
}
