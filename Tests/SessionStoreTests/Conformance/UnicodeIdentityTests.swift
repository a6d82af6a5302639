import Foundation
import SessionStore
import Testing

/// One rule for ids: the store takes every id in Unicode NFC and compares bytes, so
/// names that look alike are one name; ids holding format characters (bidirectional
/// overrides, zero-width characters) are refused with the field's code and write nothing.
@Suite struct UnicodeIdentityTests {
    static let composed = "jos\u{E9}"
    static let decomposed = "jose\u{301}"

    @Test(arguments: Backend.all)
    func composedAndDecomposedNamesAreOneUserForThePerUserLimit(backend: Backend) async throws {
        #expect(Array(Self.composed.utf8) != Array(Self.decomposed.utf8))
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.limits.maxSessionsPerUser = 1 } body: { store in
            let first = try await store.openSession(userId: Self.composed)
            let error = await #expect(throws: SessionStoreError.self) {
                try await store.openSession(userId: Self.decomposed)
            }
            #expect(error?.code == "LIMIT_EXCEEDED.SESSIONS_PER_USER")
            #expect(Array(first.userId.utf8) == Array(Self.composed.utf8))

            // Lookups by either spelling find the one session.
            let listed = try await store.listSessions(SessionFilter(userId: Self.decomposed))
            #expect(listed.map(\.key) == [first.key])
        }
        #expect(try test.inspector.count("sessions") == 1)
        #expect(try test.inspector.count("sessions", where: ["user_id": .text(Self.composed)]) == 1)
        let stored = try test.inspector.values("user_id", of: "sessions")
        #expect(stored.map { $0.text.map { Array($0.utf8) } } == [Array(Self.composed.utf8)])
    }

    @Test(arguments: Backend.all)
    func everyIdIsStoredInNFC(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            var request = OpenSessionRequest(userId: Self.decomposed)
            request.sessionId = Self.decomposed
            request.dataSource = Self.decomposed
            request.details = [Self.decomposed: "v"]
            request.config = [Self.decomposed: "v"]
            let session = try await store.openSession(request)
            let execution = try await store.createExecution(key: session.key, tags: [Self.decomposed])
            #expect(execution.tags == [Self.composed])
            try await store.addResource(key: session.key, kind: Self.decomposed, name: Self.decomposed, bytes: 1)
            // Released by the other spelling: the same resource.
            let released = try await store.releaseResource(key: session.key, kind: Self.composed, name: Self.composed)
            #expect(released.name.utf8.elementsEqual(Self.composed.utf8))
            #expect(try await store.isolatedSession(userId: Self.composed, sessionId: Self.composed)?.key == session.key)
        }
        for (table, column) in [
            ("sessions", "user_id"), ("sessions", "client_session_id"), ("sessions", "data_source"),
            ("session_details", "name"), ("session_config", "name"),
        ] {
            #expect(
                try test.inspector.count(table, where: [column: .text(Self.composed)]) == 1,
                "\(table).\(column) is not NFC")
        }
    }

    /// Format characters, one of each kind, in each id field they could disguise.
    static let disguised = ["ada\u{202E}", "a\u{200B}da", "\u{FEFF}ada", "ad\u{2066}a", "ada\u{2060}"]

    @Test(arguments: Backend.all, disguised)
    func anIdWithAFormatCharacterIsRefusedAndNothingIsWritten(backend: Backend, id: String) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let user = await #expect(throws: SessionStoreError.self) { try await store.openSession(userId: id) }
            #expect(user?.code == "INVALID_ARGUMENT.USER_ID")
            var request = OpenSessionRequest(userId: "ada")
            request.dataSource = id
            let source = await #expect(throws: SessionStoreError.self) { try await store.openSession(request) }
            #expect(source?.code == "INVALID_ARGUMENT.DATA_SOURCE")
            request = OpenSessionRequest(userId: "ada")
            request.impersonatedUser = id
            let impersonated = await #expect(throws: SessionStoreError.self) { try await store.openSession(request) }
            #expect(impersonated?.code == "INVALID_ARGUMENT.IMPERSONATED_USER")
        }
        #expect(try test.inspector.count("sessions") == 0)
        #expect(try test.inspector.count("events") == 0)
    }

    @Test(arguments: Backend.all)
    func impersonationComparesNamesInNFC(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore {
            $0.impersonationPolicy = ProxyUsersImpersonation(proxyUsers: [Self.decomposed])
        } body: { store in
            // The proxy user named decomposed is the principal opening composed.
            var request = OpenSessionRequest(userId: Self.composed)
            request.impersonatedUser = "ada"
            let session = try await store.openSession(request)
            #expect(session.impersonatedUser == "ada")
            // Acting as oneself, spelled the other way, is acting as oneself.
            var bob = OpenSessionRequest(userId: "b\u{F6}b")
            bob.impersonatedUser = "bo\u{308}b"
            _ = try await store.openSession(bob)
        }
        #expect(NoImpersonation().allows(principal: Self.composed, toActAs: Self.composed))
        #expect(!NoImpersonation().allows(principal: Self.composed, toActAs: Self.decomposed))
    }
}
