import SessionStoreSQLite

/// The SQL of listing sessions by filter, page by page.
enum SessionListRecords {
    /// Sessions matching the filter, oldest first. The state condition is written with
    /// literal states so SQLite can use the partial indexes.
    static func list(_ db: Database, _ filter: SessionFilter, afterRowId: Int64) throws(SQLiteError) -> [SessionRow] {
        var conditions = ["id > ?"]
        var arguments: [DatabaseValue] = [.integer(afterRowId)]
        switch filter.states {
        case .live: conditions.append("state IN ('idle', 'active')")
        case .ended: conditions.append("state IN ('closed', 'expired', 'failed')")
        case .all: break
        case .only(let state): conditions.append("state = '\(state.rawValue)'")
        }
        if let userId = filter.userId {
            conditions.append("user_id = ?")
            arguments.append(.text(userId))
        }
        if let dataSource = filter.dataSource {
            conditions.append("data_source = ?")
            arguments.append(.text(dataSource))
        }
        arguments.append(.integer(Int64(filter.limit)))
        return try db.fetchAll(
            sql: """
                SELECT \(SessionRecords.columns) FROM sessions
                WHERE \(conditions.joined(separator: " AND "))
                ORDER BY id
                LIMIT ?
                """, arguments, map: SessionRecords.row)
    }
}
