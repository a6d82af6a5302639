/// A session and the sessions linked under it, as ``SessionStore/sessionTree(key:)``
/// returns them: each session once, as a node, and the links between them, as edges.
///
/// Links form a directed acyclic graph rather than a tree: a session may be linked under
/// several parents, and a session reached along two paths is still one node, with one
/// edge per link. The value is flat, so reading, encoding or printing it never recurses,
/// however deep the hierarchy.
///
/// ```swift
/// let tree = try await store.sessionTree(key: key)
/// for node in tree.nodes {
///     print(String(repeating: "  ", count: node.depth) + node.session.key)
/// }
/// let children = tree.children(of: key).map(\.session.key)
/// ```
///
/// The walk stops at ``SessionLimits/maxTreeNodes`` sessions and at
/// ``SessionLimits/maxTreeDepth`` links from the root; ``truncated`` then says that
/// sessions were left out. A cut-off tree is an answer rather than an error: the caller
/// still sees the part of the hierarchy nearest the root, and each node's
/// ``Session/children`` still names every child, shown or not.
public struct SessionTree: Sendable, Hashable, Codable {
    /// The key of the session the walk started at, the first of ``nodes``.
    public let root: String
    /// Every session reached from the root, each once, breadth first: the root (depth 0),
    /// then the sessions one link away, and so on.
    public let nodes: [SessionTreeNode]
    /// Every link between two sessions of ``nodes``: grouped by parent in the order of
    /// ``nodes``, each parent's children in the order they were linked.
    public let edges: [SessionTreeEdge]
    /// Whether sessions linked under the nodes were left out because the walk reached
    /// ``SessionLimits/maxTreeNodes`` or ``SessionLimits/maxTreeDepth``.
    public let truncated: Bool

    init(root: String, nodes: [SessionTreeNode], edges: [SessionTreeEdge], truncated: Bool) {
        self.root = root
        self.nodes = nodes
        self.edges = edges
        self.truncated = truncated
    }

    /// The node of the session `key` (any case), `nil` when it is not in the tree.
    public func node(_ key: String) -> SessionTreeNode? {
        let key = key.lowercased()
        return nodes.first { $0.session.key == key }
    }

    /// The nodes linked directly under `key` (any case), in link order; empty when `key`
    /// is not in the tree or its children were left out.
    public func children(of key: String) -> [SessionTreeNode] {
        let key = key.lowercased()
        let childKeys = edges.filter { $0.parent == key }.map(\.child)
        guard !childKeys.isEmpty else { return [] }
        let byKey = Dictionary(nodes.map { ($0.session.key, $0) }, uniquingKeysWith: { first, _ in first })
        return childKeys.compactMap { byKey[$0] }
    }
}

/// One session of a ``SessionTree``.
public struct SessionTreeNode: Sendable, Hashable, Codable {
    /// The session as readers see it at the time of the call (an overdue one expired),
    /// with its links: ``Session/children`` names every child, including those a cut-off
    /// tree leaves out.
    public let session: Session
    /// The fewest links from the root to this session: 0 for the root.
    public let depth: Int

    init(session: Session, depth: Int) {
        self.session = session
        self.depth = depth
    }
}

/// One link of a ``SessionTree``: `child` is linked under `parent` (a Stream API
/// associate session).
public struct SessionTreeEdge: Sendable, Hashable, Codable {
    /// The parent's key.
    public let parent: String
    /// The child's key.
    public let child: String

    init(parent: String, child: String) {
        self.parent = parent
        self.child = child
    }
}
