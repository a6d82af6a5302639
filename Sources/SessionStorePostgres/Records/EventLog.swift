import Foundation
import SessionStoreCore

/// The SQL of the `events` table.
struct EventLog: EventRepository {
    let db: PGConnection

    /// Appends an event whose payload was encoded beforehand (off the writer thread).
    func append(at time: Int64, kind: EventKind, subject: EventSubject, payloadJSON: String) throws {
        try db.execute(
            sql: """
                INSERT INTO events (at, kind, session_key, user_id, data_source, operation_id, payload)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            [
                .integer(time), .text(kind.rawValue), PGValue(subject.sessionKey), PGValue(subject.userId),
                PGValue(subject.dataSource), PGValue(subject.operationId), .text(payloadJSON),
            ])
        db.appendedEvents = true
    }

    /// Appends `events` in order, a thousand rows a statement.
    func append(all events: [NewEvent]) throws {
        for start in stride(from: 0, to: events.count, by: 1000) {
            let chunk = events[start..<min(events.count, start + 1000)]
            let rows = Array(repeating: "(?, ?, ?, ?, ?, ?, ?)", count: chunk.count).joined(separator: ", ")
            try db.execute(
                sql: "INSERT INTO events (at, kind, session_key, user_id, data_source, operation_id, payload) VALUES \(rows)",
                chunk.flatMap { event -> [PGValue] in
                    [
                        .integer(event.at), .text(event.kind.rawValue), PGValue(event.subject.sessionKey),
                        PGValue(event.subject.userId), PGValue(event.subject.dataSource), PGValue(event.subject.operationId),
                        .text(event.payloadJSON),
                    ]
                })
            db.appendedEvents = true
        }
    }

    /// Up to `limit` events after `seq` matching `filter`, only those of `userId` when it
    /// is given. Each condition is a column an index leads with: `events_by_session`,
    /// `events_by_kind`, `events_by_user`.
    ///
    /// With `newestFirst` they are the newest `limit` such events, newest first: the same
    /// index read backwards.
    func read(after seq: Int64, limit: Int, filter: EventFilter, userId: String?, newestFirst: Bool) throws -> [StoreEvent] {
        var (conditions, arguments) = Self.matching(after: seq, filter: filter, userId: userId)
        arguments.append(.integer(Int64(limit)))
        return try db.fetchAll(
            sql: """
                SELECT \(Self.columns) FROM events
                WHERE \(conditions.joined(separator: " AND "))
                ORDER BY seq\(newestFirst ? " DESC" : "") LIMIT ?
                """, arguments, map: Self.event)
    }

    /// How many events after `seq` and before `before` match `filter`, read from the index
    /// that serves the filter.
    func count(after seq: Int64, before: Int64, filter: EventFilter) throws -> Int {
        var (conditions, arguments) = Self.matching(after: seq, filter: filter, userId: nil)
        conditions.append("seq < ?")
        arguments.append(.integer(before))
        return Int(try db.fetchInt64(sql: "SELECT count(*) FROM events WHERE \(conditions.joined(separator: " AND "))", arguments) ?? 0)
    }

    /// The conditions, and their arguments, of the events after `seq` matching `filter`
    /// (and `userId`).
    private static func matching(after seq: Int64, filter: EventFilter, userId: String?) -> ([String], [PGValue]) {
        let equalities: [(column: String, value: PGValue)] = [
            filter.sessionKey.map { ("session_key", .text($0)) },
            userId.map { ("user_id", .text($0)) },
            filter.kind.map { ("kind", .text($0.rawValue)) },
        ].compactMap { $0 }
        // The first equality names the index that serves the read; the range of `seq`
        // follows it.
        var conditions = equalities.map { "\($0.column) = ?" }
        var arguments = equalities.map(\.value)
        conditions.insert("seq > ?", at: min(1, conditions.count))
        arguments.insert(.integer(seq), at: min(1, arguments.count))
        return (conditions, arguments)
    }

    /// The columns of a ``StoreEvent``, in the order ``event(_:)`` reads them.
    static let columns = "seq, at, kind, session_key, user_id, data_source, operation_id, payload"

    static func event(_ row: PGRow) -> StoreEvent {
        StoreEvent(
            seq: row.int64(0), at: Timestamp(milliseconds: row.int64(1)), kind: EventKind(rawValue: row.string(2)),
            sessionKey: row.optionalString(3), userId: row.optionalString(4), dataSource: row.optionalString(5),
            operationId: row.optionalString(6), payload: JSONText.stringObject(row.string(7)))
    }
}

extension EventLog {
    /// The sequence number of the newest event; 0 on an empty log.
    func lastSequence() throws -> Int64 {
        try db.fetchInt64(sql: "SELECT max(seq) FROM events") ?? 0
    }

    /// The sequence number of the newest event of `userId`; 0 when there is none.
    func lastSequence(userId: String) throws -> Int64 {
        try db.fetchInt64(sql: "SELECT max(seq) FROM events WHERE user_id = ?", [.text(userId)]) ?? 0
    }

    /// Deletes up to `limit` events written at or before `cutoff`; returns how many.
    func prune(before cutoff: Int64, limit: Int) throws -> Int {
        try db.execute(
            sql: """
                DELETE FROM events
                WHERE seq IN (
                    SELECT seq FROM events WHERE at <= ? ORDER BY at LIMIT ?
                )
                """, [.integer(cutoff), .integer(Int64(limit))])
        return db.changesCount
    }
}
