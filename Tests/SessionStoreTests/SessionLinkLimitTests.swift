import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

/// `maxLinksPerSession`: the links a session takes part in, as parent or as child, are
/// bounded; a link past the limit, by `addAssociate` or by an open's associates, is
/// refused with `LIMIT_EXCEEDED.LINKS_PER_SESSION` and writes nothing.
@Suite struct SessionLinkLimitTests {
    typealias Kit = SessionTestKit

    static func limited(_ configuration: inout SessionStoreConfiguration) {
        configuration.limits.maxLinksPerSession = 3
    }

    @Test func theDefaultIs1024() {
        #expect(SessionLimits().maxLinksPerSession == 1024)
        #expect(SessionStoreError.Code.linksPerSession.rawValue == "LIMIT_EXCEEDED.LINKS_PER_SESSION")
        #expect(SessionStoreError.Code.linksPerSession.category == .capacityExceeded)
    }

    @Test func aLinkPastTheParentsLimitIsRefusedAndWritesNothing() async throws {
        let test = TestStore()
        try await test.withStore(Self.limited) { store in
            let parent = try await store.openSession(userId: "ada")
            var children: [String] = []
            for _ in 0..<4 { children.append(try await store.openSession(userId: "ada").key) }
            for child in children.prefix(3) { try await store.addAssociate(parentKey: parent.key, childKey: child) }
            let before = try Kit.tableCounts(test)
            #expect(before["session_links"] == 3)

            let error = await expectError(SessionStoreError.Code.linksPerSession) {
                try await store.addAssociate(parentKey: parent.key, childKey: children[3])
            }
            #expect(error?.message.contains("3 links") == true, "\(String(describing: error))")
            #expect(try Kit.tableCounts(test) == before)
            #expect(try Kit.eventCount(test, kind: EventKind.sessionLinked) == 3)
            #expect(try await store.listParents(key: children[3]) == [])

            // Linking again what is linked stays a no-op, at the limit too.
            try await store.addAssociate(parentKey: parent.key, childKey: children[0])
            #expect(try Kit.tableCounts(test) == before)
            // A link that would close a cycle is still refused as one.
            await expectError(SessionStoreError.Code.linkCycle) {
                try await store.addAssociate(parentKey: children[0], childKey: parent.key)
            }
        }
    }

    /// Parents count too: a session linked under three parents takes no fourth, and one
    /// with two children and a parent takes no link either way.
    @Test func theChildsLinksCountAsWell() async throws {
        let test = TestStore()
        try await test.withStore(Self.limited) { store in
            let child = try await store.openSession(userId: "ada").key
            var parents: [String] = []
            for _ in 0..<4 { parents.append(try await store.openSession(userId: "ada").key) }
            for parent in parents.prefix(3) { try await store.addAssociate(parentKey: parent, childKey: child) }
            let before = try Kit.tableCounts(test)
            await expectError(SessionStoreError.Code.linksPerSession) {
                try await store.addAssociate(parentKey: parents[3], childKey: child)
            }
            #expect(try Kit.tableCounts(test) == before)

            let middle = try await store.openSession(userId: "ada").key
            let others = [try await store.openSession(userId: "ada").key, try await store.openSession(userId: "ada").key]
            try await store.addAssociate(parentKey: parents[3], childKey: middle)
            for other in others { try await store.addAssociate(parentKey: middle, childKey: other) }
            let fresh = try await store.openSession(userId: "ada").key
            await expectError(SessionStoreError.Code.linksPerSession) {
                try await store.addAssociate(parentKey: middle, childKey: fresh)
            }
            await expectError(SessionStoreError.Code.linksPerSession) {
                try await store.addAssociate(parentKey: fresh, childKey: middle)
            }
            #expect(try await store.session(key: middle)?.parents == [parents[3]])
            #expect(try await store.session(key: middle)?.children == others)
        }
    }

    @Test func anOpenPastTheLimitIsRefusedAndWritesNothing() async throws {
        let test = TestStore()
        try await test.withStore(Self.limited) { store in
            var associates: [String] = []
            for _ in 0..<4 { associates.append(try await store.openSession(userId: "ada").key) }
            let before = try Kit.tableCounts(test)

            // More associates than the limit.
            var request = OpenSessionRequest(userId: "ada", sessionId: "parent")
            request.associates = associates
            await expectError(SessionStoreError.Code.linksPerSession) { try await store.openSession(request) }
            #expect(try Kit.tableCounts(test) == before)

            // An associate at its limit refuses the open after the new row was inserted:
            // that insert is rolled back.
            let full = associates[0]
            for _ in 0..<3 {
                let parent = try await store.openSession(userId: "bob").key
                try await store.addAssociate(parentKey: parent, childKey: full)
            }
            let atLimit = try Kit.tableCounts(test)
            request.associates = [associates[1], full]
            await expectError(SessionStoreError.Code.linksPerSession) { try await store.openSession(request) }
            #expect(try Kit.tableCounts(test) == atLimit)
            #expect(try test.count("SELECT count(*) FROM sessions WHERE client_session_id = 'parent'") == 0)

            // Within the limit, the same open goes through; a key named twice is one link.
            request.associates = [associates[1], associates[2], associates[3], associates[3]]
            let opened = try await store.openSession(request)
            #expect(opened.children == Array(associates[1...3]))
        }
    }

    @Test func sessionctlTakesTheLimitByName() async throws {
        let db = CLIDatabase(options: ["--set", "max-links-per-session=1"])
        let parent = try await db.open(["--user", "ada"])
        let first = try await db.open(["--user", "ada"])
        let second = try await db.open(["--user", "ada"])
        _ = try await db.object(["link", parent, first])
        #expect(try await db.failure(["link", parent, second]) == "LIMIT_EXCEEDED.LINKS_PER_SESSION")
        #expect(try await db.object(["get", parent])["children"] as? [String] == [first])
    }
}
