
/// Builds a ``SessionTree``: breadth first, with an explicit queue and a set of the
/// sessions reached, so the stack stays flat on a chain of any length and a session
/// reached along many paths is read once.
enum SessionTreeWalk {
    /// The tree under `root`, read in the caller's snapshot, each session as readers see
    /// it at `instant`, only the sessions `scope` may act on (the walk never passes
    /// through another user's session, and no node names one among its links), with at most `maxNodes` sessions (at least the root) and none
    /// more than `maxDepth` links from the root.
    ///
    /// Each session costs one indexed read of its row and one of its pairs and links
    /// (``SessionRecords/load(_:_:)``); the links of every node are read, also at the
    /// caps, so ``SessionTree/edges`` holds every link between two nodes and
    /// ``SessionTree/truncated`` is set only when a session was actually left out.
    static func walk(
        _ db: any StorageTransaction, root: SessionRow, scope: AccessScope?, at instant: ExpiryInstant, maxNodes: Int, maxDepth: Int
    ) throws -> SessionTree {
        let maxNodes = max(maxNodes, 1)
        let maxDepth = max(maxDepth, 0)
        // `nodes` is also the queue: nodes are appended in order of depth, and `next` is
        // the first whose children are not read yet.
        var nodes = [SessionTreeNode(session: try db.sessions.load(root.seen(at: instant), scope: scope), depth: 0)]
        var reached: Set<String> = [root.key]
        var edges: [SessionTreeEdge] = []
        var truncated = false
        var next = 0
        while next < nodes.count {
            let parent = nodes[next]
            next += 1
            for child in parent.session.children {
                if reached.contains(child) {
                    edges.append(SessionTreeEdge(parent: parent.session.key, child: child))
                    continue
                }
                guard parent.depth < maxDepth, nodes.count < maxNodes else {
                    truncated = true
                    continue
                }
                // A linked session is always there: its links go with its row.
                guard let row = try db.sessions.find(key: child) else { continue }
                reached.insert(child)
                nodes.append(SessionTreeNode(session: try db.sessions.load(row.seen(at: instant), scope: scope), depth: parent.depth + 1))
                edges.append(SessionTreeEdge(parent: parent.session.key, child: child))
            }
        }
        return SessionTree(root: root.key, nodes: nodes, edges: edges, truncated: truncated)
    }
}
