
/// Adding a link between two sessions, as ``SessionStore/addAssociate(parentKey:childKey:)``
/// and an open with associates do.
enum SessionLinking {
    /// Links `child` under `parent`; false, and nothing written, when the link exists.
    /// A new link first checks ``SessionLimits/maxLinksPerSession`` on both sessions:
    /// the links a session takes part in, as parent or as child, bound what reading it
    /// (its ``Session/parents`` and ``Session/children``) and walking a tree through it cost.
    ///
    /// - Throws: `LIMIT_EXCEEDED.LINKS_PER_SESSION` naming the session at its limit.
    static func link(_ db: any StorageTransaction, parent: SessionRow, child: SessionRow, limit: Int, at now: Int64) throws -> Bool {
        guard try !db.links.exists(parentRowId: parent.id, childRowId: child.id) else { return false }
        for row in [parent, child] {
            try Limits.enforcePerSession(limit, code: SessionStoreError.Code.linksPerSession, key: row.key, what: "links") {
                try db.links.linkCount(sessionRowId: row.id)
            }
        }
        return try db.links.link(parentRowId: parent.id, childRowId: child.id, at: now)
    }
}
