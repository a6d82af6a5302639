import Foundation
import SessionStore
import Testing

/// `sessionTree` on hierarchies an attacker can build: a chain far deeper than a stack
/// of one frame per link survives, a graph where each session has two parents is read
/// once per session rather than once per path, and the node and depth caps cut the tree
/// off, saying so. Links per session are bounded. On every backend.
@Suite struct SessionTreeLimitsTests {
    /// Sessions in the chain under the root: more than the ~5,000 links on which a walk
    /// with one stack frame per link crashed the release build.
    static let chainLength = 10_000

    /// The root's key and the chain's keys, root first. The sessions are opened through
    /// the library, concurrently so that a backend may write them in few transactions;
    /// the links through `addAssociate` one after another, down the chain: each link's
    /// cycle check starts at a child that has no descendants yet, so 10,000 links take
    /// 10,000 short write transactions (a few seconds), rather than the rows written one
    /// by one beside the store, each on a connection of its own (ten times as long).
    static func chain(_ test: StoreFixture, length: Int) async throws -> [String] {
        let root = try await test.withStore { store in
            let root = try await store.openSession(userId: "ada", sessionId: "root")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<length {
                    group.addTask { _ = try await store.openSession(userId: "ada") }
                }
                try await group.waitForAll()
            }
            return root.key
        }
        let keys = try test.inspector.values("key", of: "sessions", where: [:], orderedBy: "id").compactMap(\.text)
        try #require(keys.first == root && keys.count == length + 1)
        try await test.withStore { store in
            for (parent, child) in zip(keys, keys.dropFirst()) {
                try await store.addAssociate(parentKey: parent, childKey: child)
            }
        }
        try #require(try test.inspector.count("session_links") == Int64(length))
        return keys
    }

    @Test(arguments: Backend.all)
    func aDeepChainIsCutAtTheDepthCapAndReadWholeWithoutRecursion(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        let keys = try await Self.chain(test, length: Self.chainLength)
        let cap = SessionLimits().maxTreeDepth
        #expect(cap == 64)
        try await test.withStore { store in
            let tree = try await store.sessionTree(key: keys[0])
            #expect(tree.truncated)
            #expect(tree.nodes.map(\.session.key) == Array(keys[0...cap]))
            #expect(tree.nodes.map(\.depth) == Array(0...cap), "exactly cap + 1 levels")
            #expect(tree.edges.count == cap)
            // The last node still names the child the tree left out.
            #expect(tree.nodes.last?.session.children == [keys[cap + 1]])
        }
        // With the caps above the chain, the whole chain comes back and encodes, each
        // without a stack frame per link.
        try await test.withStore { configuration in
            configuration.limits.maxTreeDepth = Self.chainLength * 2
            configuration.limits.maxTreeNodes = Self.chainLength * 2
        } body: { store in
            let tree = try await store.sessionTree(key: keys[0])
            #expect(!tree.truncated)
            #expect(tree.nodes.count == Self.chainLength + 1)
            #expect(tree.nodes.last?.depth == Self.chainLength)
            #expect(tree.edges.count == Self.chainLength)
            #expect(tree.children(of: keys[Self.chainLength - 1]).map(\.session.key) == [keys[Self.chainLength]])
            let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(tree)) as? [String: Any]
            #expect((json?["nodes"] as? [Any])?.count == Self.chainLength + 1)
        }
    }

    /// The root, then `layers` layers of two sessions; every session of a layer is linked
    /// under both of the layer above (the first layer under the root): 2^layers paths
    /// from the root to the last layer, through 2 × layers + 1 sessions.
    static func layeredGraph(_ store: SessionStore, layers: Int) async throws -> (root: String, layers: [[String]]) {
        let root = try await store.openSession(userId: "ada", sessionId: "root").key
        var above = [root]
        var all: [[String]] = []
        for _ in 0..<layers {
            var layer: [String] = []
            for _ in 0..<2 { layer.append(try await store.openSession(userId: "ada").key) }
            for parent in above {
                for child in layer { try await store.addAssociate(parentKey: parent, childKey: child) }
            }
            all.append(layer)
            above = layer
        }
        return (root, all)
    }

    @Test(arguments: Backend.all)
    func aLayeredGraphIsReadOncePerSession(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        let layers = 20
        try await test.withStore { store in
            let graph = try await Self.layeredGraph(store, layers: layers)
            let tree = try await store.sessionTree(key: graph.root)
            #expect(!tree.truncated)
            #expect(tree.nodes.count == 2 * layers + 1)
            #expect(Set(tree.nodes.map(\.session.key)).count == tree.nodes.count, "a session is listed twice")
            #expect(tree.edges.count == 2 + 4 * (layers - 1))
            #expect(Set(tree.edges.map { [$0.parent, $0.child] }).count == tree.edges.count, "a link is listed twice")
            for (index, layer) in graph.layers.enumerated() {
                #expect(layer.map { tree.node($0)?.depth } == [index + 1, index + 1])
            }
            #expect(tree.children(of: graph.layers[0][0]).map(\.session.key) == graph.layers[1])
            #expect(try JSONDecoder().decode(SessionTree.self, from: JSONEncoder().encode(tree)) == tree)
        }
        #expect(try test.inspector.count("session_links") == Int64(2 + 4 * (layers - 1)))
    }

    @Test(arguments: Backend.all)
    func theNodeCapCutsAWideTree(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { configuration in
            configuration.limits.maxTreeNodes = 5
        } body: { store in
            let root = try await store.openSession(userId: "ada").key
            var children: [String] = []
            for _ in 0..<10 {
                let child = try await store.openSession(userId: "ada").key
                try await store.addAssociate(parentKey: root, childKey: child)
                children.append(child)
            }
            let tree = try await store.sessionTree(key: root)
            #expect(tree.truncated)
            #expect(tree.nodes.count == 5)
            #expect(tree.nodes.map(\.session.key) == [root] + children.prefix(4))
            #expect(tree.edges.map(\.child) == Array(children.prefix(4)))
            #expect(tree.node(root)?.session.children == children)
        }
    }

    /// A tree that ends exactly at the depth cap is whole; one level past it is cut off.
    @Test(arguments: Backend.all)
    func truncatedOnlyWhenASessionIsLeftOut(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        var keys: [String] = []
        try await test.withStore { store in
            for _ in 0..<3 { keys.append(try await store.openSession(userId: "ada").key) }
            try await store.addAssociate(parentKey: keys[0], childKey: keys[1])
            try await store.addAssociate(parentKey: keys[1], childKey: keys[2])
            // A link from the deepest session back up to a shallower one, not a cycle.
            try await store.addAssociate(parentKey: keys[0], childKey: keys[2])
        }
        for (depth, expected, truncated) in [(2, 3, false), (1, 3, false), (0, 1, true)] {
            try await test.withStore { configuration in
                configuration.limits.maxTreeDepth = depth
            } body: { store in
                let tree = try await store.sessionTree(key: keys[0])
                #expect(tree.nodes.count == expected, "depth cap \(depth)")
                #expect(tree.truncated == truncated, "depth cap \(depth)")
            }
        }
        try await test.withStore { configuration in
            configuration.limits.maxTreeDepth = 1
        } body: { store in
            // keys[2] is at depth 1 through the direct link; the link from keys[1] is an edge.
            let tree = try await store.sessionTree(key: keys[0])
            #expect(tree.edges.map { [$0.parent, $0.child] } == [[keys[0], keys[1]], [keys[0], keys[2]], [keys[1], keys[2]]])
            #expect(tree.nodes.map(\.depth) == [0, 1, 1])
        }
    }
}
