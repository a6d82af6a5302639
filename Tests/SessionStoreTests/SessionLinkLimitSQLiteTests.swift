import SessionStore
import Testing

/// `maxLinksPerSession` through `sessionctl`, on a SQLite file.
@Suite struct SessionLinkLimitSQLiteTests {
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
