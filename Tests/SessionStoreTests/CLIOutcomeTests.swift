import Foundation
import SessionStore
import Testing

/// `sessionctl` says what a call did: `close` whether it closed the session,
/// `open --reconnect` whether the session is new and what of the request it did not take,
/// `exec create --help` that its executions detach when the command exits.
@Suite struct CLIOutcomeTests {
    @Test func closeSaysWhetherItClosedOrTheSessionHadEnded() async throws {
        let db = CLIDatabase()
        let key = try await db.open(["--user", "ada"])
        let first = try await db.object(["close", key])
        #expect(first["state"] as? String == "closed")
        #expect(first["closedByThisCall"] as? Bool == true)
        let second = try await db.object(["close", key])
        #expect(second["closedByThisCall"] as? Bool == false)
        #expect(second["endedAt"] as? String == first["endedAt"] as? String)

        let other = try await db.open(["--user", "ada"])
        let closing = try await db.run(["close", other])
        #expect(closing.status == 0, "stderr: \(closing.stderr)")
        #expect(closing.stdout.contains("state:          closed"))
        #expect(closing.stdout.contains("outcome:        closed by this call"))
        let again = try await db.run(["close", other])
        #expect(again.status == 0, "stderr: \(again.stderr)")
        #expect(again.stdout.contains("outcome:        already ended"))
    }

    @Test func openWithReconnectSaysWhetherItOpenedAndWhatItIgnored() async throws {
        let db = CLIDatabase()
        let opened = try await db.object(["open", "--user", "ada", "--session-id", "nb", "--data-source", "telemetry", "--reconnect"])
        #expect(opened["created"] as? Bool == true)
        #expect(opened["ignoredFields"] as? [String] == [])
        let key = try #require(opened["key"] as? String)

        let existing = try await db.object([
            "open", "--user", "ada", "--session-id", "nb", "--data-source", "billing", "--detail", "a=1", "--reconnect",
        ])
        #expect(existing["key"] as? String == key)
        #expect(existing["created"] as? Bool == false)
        #expect(existing["dataSource"] as? String == "telemetry")
        #expect(existing["ignoredFields"] as? [String] == ["dataSource", "details"])

        let text = try await db.run(["open", "--user", "ada", "--session-id", "nb", "--data-source", "billing", "--reconnect"])
        #expect(text.status == 0, "stderr: \(text.stderr)")
        #expect(text.stdout.contains("key:            \(key)"))
        #expect(text.stdout.contains("opened:         existing session"))
        #expect(text.stdout.contains("not applied:    dataSource"))
        let same = try await db.run(["open", "--user", "ada", "--session-id", "nb", "--data-source", "telemetry", "--reconnect"])
        #expect(same.stdout.contains("opened:         existing session"))
        #expect(same.stdout.contains("not applied:    -"))

        // Without --reconnect the JSON has the same shape (a new session, nothing ignored);
        // the text has no outcome lines.
        let plain = try await db.object(["open", "--user", "ada"])
        #expect(plain["created"] as? Bool == true)
        #expect(plain["ignoredFields"] as? [String] == [])
        let plainText = try await db.run(["open", "--user", "ada"])
        #expect(!plainText.stdout.contains("opened:"))
    }

    @Test func execCreateHelpSaysACLIProcessIsAClientThatLeaves() async throws {
        let help = try await Sessionctl.run(["exec", "create", "--help"])
        #expect(help.status == 0, "stderr: \(help.stderr)")
        // Help text wraps at the terminal's width: compare with whitespace collapsed.
        let text = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(text.contains("A CLI process is a client that leaves: when this command exits, the execution it created detaches"))
        #expect(text.contains("--reattachable"))
        #expect(text.contains("sessionctl exec attach KEY OPERATION_ID"))
        #expect(text.contains("detached-timeout"))

        // As it says: the execution is detached once the command has exited, and a
        // reattachable one can be attached again from another command.
        let db = CLIDatabase()
        let key = try await db.open(["--user", "ada"])
        let created = try await db.object(["exec", "create", key, "--reattachable"])
        #expect(created["attached"] as? Bool == true)
        let id = try #require(created["operationId"] as? String)
        #expect(try await db.object(["exec", "get", key, id])["attached"] as? Bool == false)
        #expect(try await db.object(["exec", "attach", key, id])["attached"] as? Bool == true)
    }
}
