import Foundation
import SessionStore
import Testing

/// End-to-end tests of how the built `sessionctl` reports refusals, bad handles and bad
/// configuration, run as a process.
@Suite struct CLIErrorTests {
    @Test func closedSessionIdsBadKeysAndRefusals() async throws {
        let db = CLIDatabase()
        let first = try await db.open(["--user", "ada", "--session-id", "s1"])

        // A live session id cannot be opened twice; --reconnect returns the live one.
        #expect(try await db.failure(["open", "--user", "ada", "--session-id", "s1"]) == "INVALID_HANDLE.SESSION_ALREADY_EXISTS")
        #expect(try await db.open(["--user", "ada", "--session-id", "s1", "--reconnect"]) == first)

        _ = try await db.object(["close", first])
        #expect(try await db.failure(["open", "--user", "ada", "--session-id", "s1"]) == "INVALID_HANDLE.SESSION_CLOSED")
        let text = try await db.run(["open", "--user", "ada", "--session-id", "s1"])
        #expect(text.status == 1)
        #expect(text.stdout.isEmpty)
        #expect(text.stderr.hasPrefix("error: INVALID_HANDLE.SESSION_CLOSED: ") && text.stderr.split(separator: "\n").count == 1)

        let reopened = try await db.object(["open", "--user", "ada", "--session-id", "s1", "--reconnect"])
        let second = try #require(reopened["key"] as? String)
        #expect(second != first)
        #expect(reopened["state"] as? String == "idle")
        #expect(reopened["sessionId"] as? String == "s1")
        #expect(try await db.object(["get", "--user", "ada", "--session-id", "s1"])["key"] as? String == second)
        #expect(try await db.object(["get", first])["state"] as? String == "closed")
        // The same id of another user is another session.
        #expect(try await db.open(["--user", "bob", "--session-id", "s1"]) != second)

        // Keys: malformed, or well-formed but unknown.
        #expect(try await db.failure(["get", "not-a-uuid"]) == "INVALID_HANDLE.FORMAT")
        #expect(try await db.failure(["close", "not-a-uuid"]) == "INVALID_HANDLE.FORMAT")
        #expect(try await db.failure(["tree", "not-a-uuid"]) == "INVALID_HANDLE.FORMAT")
        let unknown = UUID().uuidString.lowercased()
        #expect(try await db.failure(["get", unknown]) == "INVALID_HANDLE.SESSION_NOT_FOUND")
        #expect(try await db.failure(["close", unknown]) == "INVALID_HANDLE.SESSION_NOT_FOUND")
        #expect(try await db.failure(["details", "set", unknown, "a=1"]) == "INVALID_HANDLE.SESSION_NOT_FOUND")
        #expect(try await db.failure(["link", second, unknown]) == "INVALID_HANDLE.SESSION_NOT_FOUND")
        #expect(try await db.failure(["get", "--user", "nobody", "--session-id", "s1"]) == "INVALID_HANDLE.SESSION_NOT_FOUND")
        #expect(try await db.failure(["open", "--user", "ada", "--associate", unknown]) == "INVALID_HANDLE.SESSION_NOT_FOUND")
        let touchUnknown = try await db.run(["touch", unknown, "--json"])
        #expect(touchUnknown.status == 1)
        #expect(touchUnknown.error()?.code == "INVALID_HANDLE.SESSION_NOT_FOUND", "\(touchUnknown.stderr)")
        let untouched = try #require(try touchUnknown.json() as? [String: Any])
        #expect(untouched["live"] as? Bool == false)
        #expect(untouched["result"] as? String == "unknown")
        let badKeyText = try await db.run(["get", "not-a-uuid"])
        #expect(badKeyText.status == 1)
        #expect(badKeyText.stderr.hasPrefix("error: INVALID_HANDLE.FORMAT: ") && badKeyText.stderr.split(separator: "\n").count == 1)

        // A closed session takes no changes.
        #expect(try await db.failure(["details", "set", first, "a=1"]) == "INVALID_HANDLE.SESSION_CLOSED")
        #expect(try await db.failure(["conf", "set", first, "k=v"]) == "INVALID_HANDLE.SESSION_CLOSED")
        #expect(try await db.failure(["link", second, first]) == "INVALID_HANDLE.SESSION_CLOSED")

        // Impersonation is refused by default, and the refusal is logged.
        #expect(try await db.failure(["open", "--user", "ada", "--impersonate", "carol"]) == "PERMISSION_DENIED.IMPERSONATION")
        #expect(try await db.array(["events", "--kind", "session.refused"]).count == 1)

        // Usage errors exit 64 before anything runs.
        let noKey = try await db.run(["get"])
        #expect(noKey.status == 64)
        let badPair = try await db.run(["details", "set", second, "novalue"])
        #expect(badPair.status == 64)
        #expect(badPair.stderr.contains("novalue"))
        #expect(try await db.object(["get", second])["details"] as? [String: String] == [:])
    }

    @Test func limitsFromSetAndFromAConfigFile() async throws {
        let limited = CLIDatabase(options: ["--set", "max-sessions-per-user=1"])
        _ = try await limited.open(["--user", "ada"])
        #expect(try await limited.failure(["open", "--user", "ada"]) == "LIMIT_EXCEEDED.SESSIONS_PER_USER")
        _ = try await limited.open(["--user", "bob"])
        let refusals = try await limited.array(["events", "--kind", "session.refused"])
        #expect(refusals.count == 1)
        #expect(refusals.first?["userId"] as? String == "ada")
        #expect(try await limited.array(["list", "--user", "ada"]).count == 1)

        let fromFile = CLIDatabase()
        let file = fromFile.directory.path("config.json")
        try Data(#"{"max-sessions-per-user": 1, "default-timeout": "5m"}"#.utf8).write(to: URL(fileURLWithPath: file))
        let opened = try await fromFile.object(["open", "--user", "ada", "--config", file])
        #expect(opened["timeoutMs"] as? Int == 300_000)
        #expect(try await fromFile.failure(["open", "--user", "ada", "--config", file]) == "LIMIT_EXCEEDED.SESSIONS_PER_USER")
        // --set applies after the file.
        _ = try await fromFile.open(["--user", "ada", "--config", file, "--set", "max-sessions-per-user=2"])
        // Without the file there is no limit.
        _ = try await fromFile.open(["--user", "ada"])
        #expect(try await fromFile.array(["list", "--user", "ada"]).count == 3)
    }

    @Test func badConfigurationIsAUsageErrorNamingTheOption() async throws {
        let db = CLIDatabase()
        let unknownOption = try await db.run(["status", "--set", "no-such-option=1"])
        #expect(unknownOption.status == 64)
        #expect(unknownOption.stdout.isEmpty)
        #expect(unknownOption.stderr.contains("no-such-option"))

        let badValue = try await db.run(["open", "--user", "ada", "--set", "max-sessions-per-user=abc"])
        #expect(badValue.status == 64)
        #expect(badValue.stderr.contains("max-sessions-per-user"))
        #expect(badValue.stderr.contains("abc"))

        let noEquals = try await db.run(["--set", "tick", "status"])
        #expect(noEquals.status == 64)
        #expect(noEquals.stderr.contains("tick"))

        let missingFile = db.directory.path("missing.json")
        let unreadable = try await db.run(["status", "--config", missingFile])
        #expect(unreadable.status == 64)
        #expect(unreadable.stderr.contains("missing.json"))

        let notAnObject = db.directory.path("array.json")
        try Data("[1, 2]".utf8).write(to: URL(fileURLWithPath: notAnObject))
        let wrongShape = try await db.run(["status", "--config", notAnObject])
        #expect(wrongShape.status == 64)
        #expect(wrongShape.stderr.contains("array.json"))

        let badInFile = db.directory.path("bad.json")
        try Data(#"{"max-sessions-per-user": "lots"}"#.utf8).write(to: URL(fileURLWithPath: badInFile))
        let wrongValue = try await db.run(["status", "--config", badInFile])
        #expect(wrongValue.status == 64)
        #expect(wrongValue.stderr.contains("max-sessions-per-user"))

        // None of them touched the database.
        #expect(!FileManager.default.fileExists(atPath: db.path))
    }

    @Test func configListsEveryOption() async throws {
        let directory = TemporaryDirectory()
        let defaults = try await Sessionctl.run(["config", "--json"])
        #expect(defaults.status == 0, "\(defaults.stderr)")
        let rows = try #require(try defaults.json() as? [[String: Any]])
        #expect(rows.compactMap { $0["name"] as? String } == SessionStoreConfiguration.options.map(\.name))
        for row in rows {
            #expect(Set(row.keys) == ["name", "value", "default", "summary"], "\(row)")
            #expect(row["value"] is String && row["default"] is String, "\(row)")
            #expect(!((row["summary"] as? String) ?? "").isEmpty, "\(row)")
            #expect(row["value"] as? String == row["default"] as? String, "\(row)")
        }
        func option(_ rows: [[String: Any]], _ name: String) -> [String: Any]? {
            rows.first { $0["name"] as? String == name }
        }
        #expect(option(rows, "default-timeout")?["default"] as? String == "1h")
        #expect(option(rows, "default-timeout")?["value"] as? String == "1h")
        #expect(option(rows, "max-sessions-per-user")?["value"] as? String == "unlimited")

        let file = directory.path("config.json")
        try Data(#"{"max-sessions-per-user": 3, "allow-never-timeout": false, "max-sessions": null}"#.utf8)
            .write(to: URL(fileURLWithPath: file))
        let changed = try await Sessionctl.run(["--set", "tick=2s", "config", "--json", "--config", file, "--set", "default-timeout=never"])
        #expect(changed.status == 0, "\(changed.stderr)")
        let changedRows = try #require(try changed.json() as? [[String: Any]])
        #expect(option(changedRows, "tick")?["value"] as? String == "2s")
        #expect(option(changedRows, "tick")?["default"] as? String == "1s")
        #expect(option(changedRows, "default-timeout")?["value"] as? String == "never")
        #expect(option(changedRows, "default-timeout")?["default"] as? String == "1h")
        #expect(option(changedRows, "max-sessions-per-user")?["value"] as? String == "3")
        #expect(option(changedRows, "allow-never-timeout")?["value"] as? String == "false")
        #expect(option(changedRows, "max-sessions")?["value"] as? String == "unlimited")

        let text = try await Sessionctl.run(["config"])
        #expect(text.status == 0)
        #expect(text.stdout.hasPrefix("OPTION"))
        #expect(text.stdout.contains("default-timeout"))
    }
}
