import Foundation
import SessionStore
import Testing

/// Parent/child links (Stream API associate sessions); cycles refused; on every backend.
@Suite struct SessionHierarchyTests {
    func linkCount(_ test: StoreFixture) throws -> Int64 {
        try test.inspector.count("session_links")
    }

    @Test(arguments: Backend.all)
    func addAssociateLinksAndChildrenParentsAndTreeReadThem(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let a = try await store.openSession(userId: "ada", sessionId: "a")
            let b = try await store.openSession(userId: "ada", sessionId: "b")
            let c = try await store.openSession(userId: "ada", sessionId: "c")
            let d = try await store.openSession(userId: "bob", sessionId: "d")

            try await store.addAssociate(parentKey: a.key, childKey: b.key)
            try await store.addAssociate(parentKey: a.key, childKey: c.key.uppercased())
            try await store.addAssociate(parentKey: b.key, childKey: d.key)
            #expect(try linkCount(test) == 3)

            #expect(try await store.listChildren(key: a.key).map(\.key) == [b.key, c.key])
            #expect(try await store.listChildren(key: b.key).map(\.key) == [d.key])
            #expect(try await store.listChildren(key: d.key) == [])
            #expect(try await store.listParents(key: d.key).map(\.key) == [b.key])
            #expect(try await store.listParents(key: b.key).map(\.key) == [a.key])
            #expect(try await store.listParents(key: a.key) == [])
            #expect(try await store.session(key: a.key)?.children == [b.key, c.key])
            #expect(try await store.session(key: c.key)?.parents == [a.key])

            let tree = try await store.sessionTree(key: a.key)
            #expect(tree.root == a.key)
            #expect(tree.nodes.map(\.session.key) == [a.key, b.key, c.key, d.key])
            #expect(tree.nodes.map(\.depth) == [0, 1, 1, 2])
            #expect(tree.edges.map { [$0.parent, $0.child] } == [[a.key, b.key], [a.key, c.key], [b.key, d.key]])
            #expect(tree.children(of: a.key).map(\.session.key) == [b.key, c.key])
            #expect(tree.children(of: b.key).map(\.session.key) == [d.key])
            #expect(tree.children(of: d.key).isEmpty)
            #expect(tree.children(of: c.key).isEmpty)
            #expect(tree.node(d.key.uppercased())?.session.userId == "bob")
            #expect(!tree.truncated)

            // One session.linked event per new link, on the parent, naming the child.
            let linked = try await store.listEvents(filter: EventFilter(kind: EventKind.sessionLinked))
            #expect(linked.map(\.sessionKey) == [a.key, a.key, b.key])
            #expect(linked.map { $0.payload["child"] } == [b.key, c.key, d.key])

            // Linking again is a no-op: no row, no event.
            try await store.addAssociate(parentKey: a.key, childKey: b.key)
            #expect(try linkCount(test) == 3)
            #expect(try test.eventCount(kind: EventKind.sessionLinked) == 3)

            // Links stay readable after the child ends.
            try await store.closeSession(key: b.key)
            let children = try await store.listChildren(key: a.key)
            #expect(children.map(\.key) == [b.key, c.key])
            #expect(children.map(\.state) == [.closed, .idle])
            #expect(try await store.sessionTree(key: a.key).children(of: b.key).map(\.session.key) == [d.key])
        }
    }

    @Test(arguments: Backend.all)
    func associatesGivenAtOpenBecomeChildren(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let first = try await store.openSession(userId: "ada")
            let second = try await store.openSession(userId: "ada")
            var request = OpenSessionRequest(userId: "ada")
            request.associates = [second.key, first.key]
            let parent = try await store.openSession(request)
            #expect(Set(parent.children) == [first.key, second.key])
            #expect(try await store.listParents(key: first.key).map(\.key) == [parent.key])
            #expect(try await store.listParents(key: second.key).map(\.key) == [parent.key])
            #expect(try linkCount(test) == 2)
        }
    }

    enum AssociateProblem: String, CaseIterable, Sendable {
        case ended, unknown
    }

    /// The associate is checked after the new session's row is inserted, so the refusal
    /// must roll that insert back: no session, no details, no link, no event.
    @Test(arguments: Backend.all, AssociateProblem.allCases)
    func associatesThatAreNotLiveRefuseTheOpenWithNothingWritten(backend: Backend, problem: AssociateProblem) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let live = try await store.openSession(userId: "ada")
            let ended = try await store.openSession(userId: "ada")
            try await store.closeSession(key: ended.key)
            let before = try test.inspector.tableCounts()

            var request = OpenSessionRequest(userId: "ada", sessionId: "parent")
            request.details = ["d": "1"]
            request.config = ["c": "1"]
            switch problem {
            case .ended:
                request.associates = [live.key, ended.key]
                await expectError(SessionStoreError.Code.sessionClosed) { try await store.openSession(request) }
            case .unknown:
                request.associates = [live.key, UUID().uuidString]
                await expectError(SessionStoreError.Code.sessionNotFound) { try await store.openSession(request) }
            }
            #expect(try test.inspector.tableCounts() == before)
            #expect(try test.inspector.count("sessions", where: ["client_session_id": "parent"]) == 0)
            #expect(try test.inspector.liveCount(scope: "user", name: "ada") == 1)
            #expect(try await store.listParents(key: live.key) == [])
            #expect(try await store.checkIntegrity().isHealthy)
        }
    }

    @Test(arguments: Backend.all)
    func cyclesAreRefusedAndAddNoLink(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let a = try await store.openSession(userId: "ada", sessionId: "a")
            let b = try await store.openSession(userId: "ada", sessionId: "b")
            let c = try await store.openSession(userId: "ada", sessionId: "c")
            try await store.addAssociate(parentKey: a.key, childKey: b.key)
            try await store.addAssociate(parentKey: b.key, childKey: c.key)
            let before = try test.inspector.tableCounts()
            #expect(before["session_links"] == 2)

            for (parent, child) in [(c.key, a.key), (a.key, a.key), (b.key, a.key), (c.key, b.key), (c.key, c.key)] {
                await expectError(SessionStoreError.Code.linkCycle) {
                    try await store.addAssociate(parentKey: parent, childKey: child)
                }
            }
            #expect(try test.inspector.tableCounts() == before)
            #expect(try linkCount(test) == 2)
            #expect(try test.eventCount(kind: EventKind.sessionLinked) == 2)
            #expect(try await store.listChildren(key: c.key) == [])
            #expect(try await store.listParents(key: a.key) == [])

            // A link that closes no cycle is still fine: a diamond.
            let d = try await store.openSession(userId: "ada", sessionId: "d")
            try await store.addAssociate(parentKey: a.key, childKey: d.key)
            try await store.addAssociate(parentKey: d.key, childKey: c.key)
            #expect(try linkCount(test) == 4)
            #expect(try await store.listParents(key: c.key).map(\.key) == [b.key, d.key])
            await expectError(SessionStoreError.Code.linkCycle) {
                try await store.addAssociate(parentKey: c.key, childKey: d.key)
            }
            #expect(try linkCount(test) == 4)
        }
    }

    @Test(arguments: Backend.all)
    func linksNeedTwoLiveSessions(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let live = try await store.openSession(userId: "ada")
            let ended = try await store.openSession(userId: "ada")
            try await store.closeSession(key: ended.key)
            let unknown = UUID().uuidString

            await expectError(SessionStoreError.Code.sessionClosed) {
                try await store.addAssociate(parentKey: live.key, childKey: ended.key)
            }
            await expectError(SessionStoreError.Code.sessionClosed) {
                try await store.addAssociate(parentKey: ended.key, childKey: live.key)
            }
            await expectError(SessionStoreError.Code.sessionNotFound) {
                try await store.addAssociate(parentKey: live.key, childKey: unknown)
            }
            await expectError(SessionStoreError.Code.sessionNotFound) {
                try await store.addAssociate(parentKey: unknown, childKey: live.key)
            }
            await expectError(SessionStoreError.Code.sessionNotFound) { try await store.listChildren(key: unknown) }
            await expectError(SessionStoreError.Code.sessionNotFound) { try await store.listParents(key: unknown) }
            await expectError(SessionStoreError.Code.sessionNotFound) { try await store.sessionTree(key: unknown) }
            #expect(try linkCount(test) == 0)
            #expect(try test.eventCount(kind: EventKind.sessionLinked) == 0)
        }
    }
}
