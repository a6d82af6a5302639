import Testing
import SessionStore

@Suite struct SmokeTests {
    @Test func openAndCloseASession() async throws {
        let test = TestStore()
        let store = try await test.open()
        let session = try await store.openSession(userId: "ada", sessionId: "s1")
        #expect(session.state == .idle)
        try await store.closeSession(key: session.key)
        await store.close()
        #expect(try test.count("SELECT count(*) FROM events WHERE kind = 'session.ended'") == 1)
    }

    @Test func sessionctlRuns() async throws {
        let result = try await Sessionctl.run(["--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("sessionctl"))
    }
}
