import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

/// `sessionctl tree` on the hierarchies of ``SessionTreeLimitsTests``, on a SQLite file:
/// a chain far deeper than a stack of one frame per link prints and exits 0, a layered
/// graph prints each session once, and the node cap is taken by name.
@Suite struct SessionTreeLimitsSQLiteTests {
    static let chainLength = SessionTreeLimitsTests.chainLength

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

    @Test func sessionctlPrintsALayeredGraphOncePerSession() async throws {
        let test = TestStore(start: TestStore.realTime())
        let layers = 20
        let graph = try await test.withStore { store in
            try await SessionTreeLimitsTests.layeredGraph(store, layers: layers)
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

    @Test func sessionctlTakesTheNodeCapByName() async throws {
        let test = TestStore(start: TestStore.realTime())
        let (root, children) = try await test.withStore { store in
            let root = try await store.openSession(userId: "ada").key
            var children: [String] = []
            for _ in 0..<10 {
                let child = try await store.openSession(userId: "ada").key
                try await store.addAssociate(parentKey: root, childKey: child)
                children.append(child)
            }
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
}
