
/// Links between sessions, and the sessions linked to one: unchecked calls for trusted
/// code in the process. A caller that is not trusted is served through
/// ``SessionStore/acting(as:)``, whose ``ScopedSessionStore`` makes the same calls for
/// one principal.
extension SessionStore {
    /// Links `child` under `parent` (a Stream API associate session). Linking twice is a
    /// no-op. Counts as an access to the parent.
    ///
    /// - Throws: `INVALID_ARGUMENT.LINK_CYCLE` when `parent` is `child` or one of its
    ///   descendants; `LIMIT_EXCEEDED.LINKS_PER_SESSION` when either session already takes
    ///   part in ``SessionLimits/maxLinksPerSession`` links;
    ///   `INVALID_HANDLE.SESSION_NOT_FOUND` / `SESSION_CLOSED` when either session is not
    ///   live. A refused link writes nothing.
    public func addAssociate(parentKey parent: String, childKey child: String) async throws {
        try await addAssociate(parentKey: parent, childKey: child, scope: nil)
    }

    func addAssociate(parentKey parent: String, childKey child: String, scope: AccessScope?) async throws {
        let validator = configuration.validator
        let parentKey = try validator.key(parent)
        let childKey = try validator.key(child)
        let configuration = self.configuration
        try await mutate(key: parentKey, scope: scope) { db, parentRow, now in
            let childRow = try Access.liveRow(db, key: childKey, scope: scope, at: configuration.expiryInstant(now))
            guard try !db.links.isDescendant(parentRow.id, of: childRow.id) else {
                throw SessionStoreError(
                    code: SessionStoreError.Code.linkCycle,
                    message: "linking \(childKey) under \(parentKey) would make a cycle")
            }
            if try SessionLinking.link(db, parent: parentRow, child: childRow, limit: configuration.limits.maxLinksPerSession, at: now) {
                try db.events.append(at: now, kind: EventKind.sessionLinked, subject: parentRow.subject, payload: ["child": childKey, "childUser": childRow.userId])
            }
        }
    }

    /// The sessions linked under `key`, live or ended: links outlive the sessions they
    /// join, so an ended child is listed, as a tombstone, until it is pruned
    /// (``SessionStoreConfiguration/tombstoneRetention``). Filter on ``Session/isLive``
    /// for the live ones.
    public func listChildren(key: String) async throws -> [Session] {
        try await listChildren(key: key, scope: nil)
    }

    func listChildren(key: String, scope: AccessScope?) async throws -> [Session] {
        try await related(key, scope: scope) { db, row in try db.links.childKeys(sessionRowId: row.id) }
    }

    /// The sessions `key` is linked under, live or ended: links outlive the sessions they
    /// join, so an ended parent is listed, as a tombstone, until it is pruned
    /// (``SessionStoreConfiguration/tombstoneRetention``). Filter on ``Session/isLive``
    /// for the live ones.
    public func listParents(key: String) async throws -> [Session] {
        try await listParents(key: key, scope: nil)
    }

    func listParents(key: String, scope: AccessScope?) async throws -> [Session] {
        try await related(key, scope: scope) { db, row in try db.links.parentKeys(sessionRowId: row.id) }
    }

    /// `key` with its descendants, live or ended, read in one snapshot: each session once,
    /// with the links between them (``SessionTree``). Links outlive the sessions they
    /// join: `key` may be ended, and an ended descendant stays in the tree, as a tombstone
    /// with its own links, until it is pruned
    /// (``SessionStoreConfiguration/tombstoneRetention``).
    ///
    /// The walk stops at ``SessionLimits/maxTreeNodes`` sessions and
    /// ``SessionLimits/maxTreeDepth`` links from `key`, and then sets
    /// ``SessionTree/truncated``: a deep chain or a wide graph of links costs at most that
    /// much, never a stack per link or a copy per path.
    public func sessionTree(key: String) async throws -> SessionTree {
        try await sessionTree(key: key, scope: nil)
    }

    func sessionTree(key: String, scope: AccessScope?) async throws -> SessionTree {
        let key = try configuration.validator.key(key)
        let configuration = self.configuration
        let limits = configuration.limits
        return try await read { db in
            try SessionTreeWalk.walk(
                db, root: Access.row(db, key: key, scope: scope), scope: scope, at: configuration.expiryInstant(db.now),
                maxNodes: limits.maxTreeNodes,
                maxDepth: limits.maxTreeDepth)
        }
    }

    /// The sessions `keys` names for the session `key`, each only when `scope` may act on it.
    private func related(
        _ key: String, scope: AccessScope?, _ keys: @escaping @Sendable (any StorageTransaction, SessionRow) throws -> [String]
    ) async throws(SessionStoreError) -> [Session] {
        let key = try configuration.validator.key(key)
        let configuration = self.configuration
        return try await read { db in
            let instant = configuration.expiryInstant(db.now)
            return try keys(db, Access.row(db, key: key, scope: scope)).compactMap { try Access.find(db, key: $0, scope: scope) }.map {
                try db.sessions.load($0.seen(at: instant), scope: scope)
            }
        }
    }
}
