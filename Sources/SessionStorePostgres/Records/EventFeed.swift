import SessionStoreCore

extension EventLog {
    /// Up to `limit` events after `seq`, only those of `kinds` (every kind when `nil`) and
    /// of `userId` (every user when `nil`), read in one snapshot with the newest sequence
    /// number, so the page tells how far it covers the log even when no such event is new.
    ///
    /// Write transactions run one at a time under the store's write lock, so sequence
    /// numbers commit in order: no event below the snapshot's newest can commit later, and
    /// `through` may be that newest number.
    func page(after seq: Int64, kinds: Set<EventKind>?, userId: String?, limit: Int) throws -> EventPage {
        let newest = try lastSequence()
        guard newest > seq else { return EventPage(events: [], through: max(seq, newest)) }
        // The SQL text is the same whatever kinds are asked for (one prepared statement per
        // connection), so no caller can make it long or make the prepared statements grow.
        // Several kinds travel as one JSON array.
        var arguments: [PGValue] = [.integer(seq), .integer(newest)]
        let kindClause: String
        switch kinds.map({ $0.map(\.rawValue).sorted() }) {
        case nil:
            kindClause = ""
        case let names? where names.count == 1:
            kindClause = "AND kind = ?"
            arguments.append(.text(names[0]))
        case let names?:
            kindClause = "AND kind IN (SELECT jsonb_array_elements_text(?::jsonb))"
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
        let through = events.count >= limit ? events.last?.seq ?? seq : newest
        return EventPage(events: events, through: through)
    }
}
