import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

/// `sessionTree` on hierarchies an attacker can build: a chain far deeper than a stack
/// of one frame per link survives, a graph where each session has two parents is read
/// once per session rather than once per path, and the node and depth caps cut the tree
/// off, saying so. Links per session are bounded.
@Suite struct SessionTreeLimitsTests {
    typealias Kit = SessionTestKit

    /// Sessions in the chain under the root: more than the ~5,000 links on which a walk
    /// with one stack frame per link crashed the release build.
    static let chainLength = 10_000

    /// The root's key and the chain's keys, root first. The sessions are opened through
    /// the library, concurrently so that group commit writes them in few transactions;
    /// the links are inserted with one SQL statement: through `addAssociate`, 10,000
    /// links would be 10,000 write transactions, each checking for a cycle.
    static func chain(_ test: TestStore, length: Int) async throws -> [String] {
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
        let db = try Database(path: test.path)
        try db.execute(
            sql: """
                INSERT INTO session_links (parent_id, child_id, created_at)
                SELECT id, next, 0 FROM (SELECT id, lead(id) OVER (ORDER BY id) AS next FROM sessions)
                WHERE next IS NOT NULL
                """)
        let keys = try db.fetchAll(sql: "SELECT key FROM sessions ORDER BY id") { $0.string(0) }
        try #require(keys.first == root && keys.count == length + 1)
        try #require(try db.fetchInt64(sql: "SELECT count(*) FROM session_links") == Int64(length))
        return keys
    }

    @Test func aDeepChainIsCutAtTheDepthCapAndReadWholeWithoutRecursion() async throws {
        let test = TestStore()
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

    @Test func sessionctlPrintsADeepChainAndExitsZero() async throws {
        let test = TestStore(start: TestStore.realTime())
        let keys = try await Self.chain(test, length: Self.chainLength)
        let db = CLIDatabase(path: test.path)
        let cap = SessionLimits().maxTreeDepth

        let text = try await db.run(["tree", keys[0]])
        #expect(text.status == 0, "\(text.stderr)")
        let lines = text.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == cap + 2, "cap + 1 sessions and the line of the one left out")
        #expect(lines.first == "\(keys[0])  ada  idle")
        #expect(lines[cap] == "\(String(repeating: "  ", count: cap))\(keys[cap])  ada  idle")
        #expect(lines.last == "\(String(repeating: "  ", count: cap + 1))… 1 more")
        #expect(text.stderr.contains("cut off"))

        // The whole chain through the process: no stack frame per link there either.
        let whole = try await db.run(
            ["tree", keys[0], "--json", "--set", "max-tree-depth=20000", "--set", "max-tree-nodes=20000"])
        #expect(whole.status == 0, "\(whole.stderr)")
        let object = try #require(try whole.json() as? [String: Any])
        #expect((object["nodes"] as? [Any])?.count == Self.chainLength + 1)
        #expect((object["edges"] as? [Any])?.count == Self.chainLength)
        #expect(object["truncated"] as? Bool == false)
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

    @Test func aLayeredGraphIsReadOncePerSession() async throws {
        let test = TestStore(start: TestStore.realTime())
        let layers = 20
        let graph = try await test.withStore { store in
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
            return graph
        }
        #expect(try test.count("SELECT count(*) FROM session_links") == Int64(2 + 4 * (layers - 1)))

        // The text prints each session once; a session reached again is a reference.
        let text = try await CLIDatabase(path: test.path).run(["tree", graph.root])
        #expect(text.status == 0 && text.stderr.isEmpty, "\(text.stderr)")
        let lines = text.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 1 + 2 + 4 * (layers - 1), "one line for the root and one per link")
        let references = lines.filter { $0.hasSuffix("(shown above)") }
        #expect(references.count == 2 * (layers - 1))
        for key in [graph.root] + graph.layers.joined() {
            #expect(lines.filter { $0.contains(key) && !$0.hasSuffix("(shown above)") }.count == 1, "\(key)")
        }
    }

    @Test func theNodeCapCutsAWideTree() async throws {
        let test = TestStore(start: TestStore.realTime())
        let (root, children) = try await test.withStore { configuration in
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
            return (root, children)
        }
        // The option by name, as `--set` gives it.
        let db = CLIDatabase(path: test.path)
        let capped = try await db.object(["tree", root, "--set", "max-tree-nodes=3"])
        #expect((capped["nodes"] as? [Any])?.count == 3)
        #expect(capped["truncated"] as? Bool == true)
        let whole = try await db.object(["tree", root])
        #expect((whole["nodes"] as? [Any])?.count == children.count + 1)
        #expect(whole["truncated"] as? Bool == false)
        let text = try await db.run(["tree", root, "--set", "max-tree-nodes=3"])
        #expect(text.stdout.hasSuffix("  … 8 more\n"), "\(text.stdout)")
    }

    /// A tree that ends exactly at the depth cap is whole; one level past it is cut off.
    @Test func truncatedOnlyWhenASessionIsLeftOut() async throws {
        let test = TestStore()
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
