import SessionStoreCore

/// The SQL of `session_links`: parent/child links between sessions.
struct SessionLinkRecords: SessionLinkRepository {
    let db: PGConnection

    /// Inserts the link; false when it existed.
    func link(parentRowId: Int64, childRowId: Int64, at time: Int64) throws -> Bool {
        try db.execute(
            sql: """
                INSERT INTO session_links (parent_id, child_id, created_at) VALUES (?, ?, ?)
                ON CONFLICT (parent_id, child_id) DO NOTHING
                """, [.integer(parentRowId), .integer(childRowId), .integer(time)])
        return db.changesCount == 1
    }

    /// Whether `child` is linked under `parent`.
    func exists(parentRowId: Int64, childRowId: Int64) throws -> Bool {
        try db.fetchInt64(
            sql: "SELECT 1 FROM session_links WHERE parent_id = ? AND child_id = ?",
            [.integer(parentRowId), .integer(childRowId)]) == 1
    }

    /// The links the session takes part in, as parent or as child: two index searches,
    /// the primary key for its children and `session_links_by_child` for its parents.
    func linkCount(sessionRowId: Int64) throws -> Int64 {
        try db.fetchInt64(
            sql: """
                SELECT (SELECT count(*) FROM session_links WHERE parent_id = ?)
                    + (SELECT count(*) FROM session_links WHERE child_id = ?)
                """, [.integer(sessionRowId), .integer(sessionRowId)]) ?? 0
    }

    /// Whether `target` is `start` or one of its descendants: a link from `target` to
    /// `start` would then close a cycle. (`UNION` drops rows already found, so the
    /// recursion ends even on a graph that has a cycle.)
    func isDescendant(_ target: Int64, of start: Int64) throws -> Bool {
        if target == start { return true }
        let found = try db.fetchInt64(
            sql: """
                WITH RECURSIVE descendants (id) AS (
                    SELECT child_id FROM session_links WHERE parent_id = ?
                    UNION
                    SELECT session_links.child_id
                    FROM session_links JOIN descendants ON session_links.parent_id = descendants.id
                )
                SELECT 1 FROM descendants WHERE id = ? LIMIT 1
                """, [.integer(start), .integer(target)])
        return found == 1
    }

    func childKeys(sessionRowId: Int64) throws -> [String] {
        try db.fetchAll(
            sql: """
                SELECT sessions.key FROM session_links JOIN sessions ON sessions.id = session_links.child_id
                WHERE session_links.parent_id = ?
                ORDER BY session_links.child_id
                """, [.integer(sessionRowId)]) { $0.string(0) }
    }

    func parentKeys(sessionRowId: Int64) throws -> [String] {
        try db.fetchAll(
            sql: """
                SELECT sessions.key FROM session_links JOIN sessions ON sessions.id = session_links.parent_id
                WHERE session_links.child_id = ?
                ORDER BY session_links.parent_id
                """, [.integer(sessionRowId)]) { $0.string(0) }
    }
}
