import Foundation
import SessionStore
import Testing

/// `maxLinksPerSession`: the links a session takes part in, as parent or as child, are
/// bounded; a link past the limit, by `addAssociate` or by an open's associates, is
/// refused with `LIMIT_EXCEEDED.LINKS_PER_SESSION` and writes nothing; on every backend.
@Suite struct SessionLinkLimitTests {
    static func limited(_ configuration: inout SessionStoreConfiguration) {
        configuration.limits.maxLinksPerSession = 3
    }

    @Test func theDefaultIs1024() {
        #expect(SessionLimits().maxLinksPerSession == 1024)
        #expect(SessionStoreError.Code.linksPerSession.rawValue == "LIMIT_EXCEEDED.LINKS_PER_SESSION")
        #expect(SessionStoreError.Code.linksPerSession.category == .capacityExceeded)
    }

    @Test(arguments: Backend.all)
    func aLinkPastTheParentsLimitIsRefusedAndWritesNothing(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore(Self.limited) { store in
            let parent = try await store.openSession(userId: "ada")
            var children: [String] = []
            for _ in 0..<4 { children.append(try await store.openSession(userId: "ada").key) }
            for child in children.prefix(3) { try await store.addAssociate(parentKey: parent.key, childKey: child) }
            let before = try test.inspector.tableCounts()
            #expect(before["session_links"] == 3)

            let error = await expectError(SessionStoreError.Code.linksPerSession) {
                try await store.addAssociate(parentKey: parent.key, childKey: children[3])
            }
            #expect(error?.message.contains("3 links") == true, "\(String(describing: error))")
            #expect(try test.inspector.tableCounts() == before)
            #expect(try test.eventCount(kind: EventKind.sessionLinked) == 3)
            #expect(try await store.listParents(key: children[3]) == [])

            // Linking again what is linked stays a no-op, at the limit too.
            try await store.addAssociate(parentKey: parent.key, childKey: children[0])
            #expect(try test.inspector.tableCounts() == before)
            // A link that would close a cycle is still refused as one.
            await expectError(SessionStoreError.Code.linkCycle) {
                try await store.addAssociate(parentKey: children[0], childKey: parent.key)
            }
        }
    }

    /// Parents count too: a session linked under three parents takes no fourth, and one
    /// with two children and a parent takes no link either way.
    @Test(arguments: Backend.all)
    func theChildsLinksCountAsWell(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore(Self.limited) { store in
            let child = try await store.openSession(userId: "ada").key
            var parents: [String] = []
            for _ in 0..<4 { parents.append(try await store.openSession(userId: "ada").key) }
            for parent in parents.prefix(3) { try await store.addAssociate(parentKey: parent, childKey: child) }
            let before = try test.inspector.tableCounts()
            await expectError(SessionStoreError.Code.linksPerSession) {
                try await store.addAssociate(parentKey: parents[3], childKey: child)
            }
            #expect(try test.inspector.tableCounts() == before)

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

    @Test(arguments: Backend.all)
    func anOpenPastTheLimitIsRefusedAndWritesNothing(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore(Self.limited) { store in
            var associates: [String] = []
            for _ in 0..<4 { associates.append(try await store.openSession(userId: "ada").key) }
            let before = try test.inspector.tableCounts()

            // More associates than the limit.
            var request = OpenSessionRequest(userId: "ada", sessionId: "parent")
            request.associates = associates
            await expectError(SessionStoreError.Code.linksPerSession) { try await store.openSession(request) }
            #expect(try test.inspector.tableCounts() == before)

            // An associate at its limit refuses the open after the new row was inserted:
            // that insert is rolled back.
            let full = associates[0]
            for _ in 0..<3 {
                let parent = try await store.openSession(userId: "bob").key
                try await store.addAssociate(parentKey: parent, childKey: full)
            }
            let atLimit = try test.inspector.tableCounts()
            request.associates = [associates[1], full]
            await expectError(SessionStoreError.Code.linksPerSession) { try await store.openSession(request) }
            #expect(try test.inspector.tableCounts() == atLimit)
            #expect(try test.inspector.count("sessions", where: ["client_session_id": "parent"]) == 0)

            // Within the limit, the same open goes through; a key named twice is one link.
            request.associates = [associates[1], associates[2], associates[3], associates[3]]
            let opened = try await store.openSession(request)
            #expect(opened.children == Array(associates[1...3]))
        }
    }
}
