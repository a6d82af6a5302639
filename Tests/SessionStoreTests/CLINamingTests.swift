import Foundation
import Testing

/// One name for one idea: `options` and `--options-file` for the store's options, `conf`
/// for a session's config, a subscription as `releases NAME` like `subscribe NAME`, a
/// session key as `--session-key`, an execution status by the name every output prints.
/// Each older spelling still works and is no longer shown.
@Suite struct CLINamingTests {
    @Test func optionsListsTheStoreOptionsAndConfigStillDoes() async throws {
        let options = try await Sessionctl.run(["options", "--json"])
        let config = try await Sessionctl.run(["config", "--json"])
        #expect(options.status == 0 && config.status == 0, "\(options.stderr) \(config.stderr)")
        #expect(!options.stdout.isEmpty && options.stdout == config.stdout)

        let help = try await Sessionctl.run(["--help"])
        let commands = help.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(commands.contains { $0.hasPrefix("options ") })
        #expect(!commands.contains { $0.hasPrefix("config ") || $0.hasPrefix("config,") }, "config is listed: \(help.stdout)")
        #expect(commands.contains { $0.hasPrefix("conf ") })
        #expect(help.stdout.contains("--options-file <FILE>") && !help.stdout.contains("--config"), "\(help.stdout)")
    }

    @Test func optionsFileAndItsOlderNameConfigReadTheSameFile() async throws {
        let directory = TemporaryDirectory()
        let file = directory.path("options.json")
        try Data(#"{"default-timeout": "5m"}"#.utf8).write(to: URL(fileURLWithPath: file))
        for spelling in ["--options-file", "--config"] {
            let rows = try #require(try await Sessionctl.run(["options", "--json", spelling, file]).json() as? [[String: Any]])
            let row = try #require(rows.first { $0["name"] as? String == "default-timeout" })
            #expect(row["value"] as? String == "5m", "\(spelling)")
        }
        let both = try await Sessionctl.run(["options", "--options-file", file, "--config", file])
        #expect(both.status == 64, "\(both.stderr)")
    }

    @Test func releasesTakesTheSubscriptionAsSubscribeDoes() async throws {
        let db = CLIDatabase()
        _ = try await db.run(["init"])
        for arguments in [["releases", "reader"], ["releases", "--subscription", "reader"], ["subscribe", "reader"]] {
            let result = try await db.run(arguments + ["--json"])
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            #expect(try result.json() is [Any], "\(arguments): \(result.stdout)")
        }
        for arguments in [["releases"], ["releases", "reader", "--subscription", "reader"]] {
            #expect(try await db.run(arguments).status == 64, "\(arguments)")
        }
        let help = try await Sessionctl.run(["releases", "--help"])
        #expect(help.stdout.contains("<name>") && !help.stdout.contains("--subscription"), "\(help.stdout)")
    }

    @Test func execSetTakesTheStatusAsItIsPrintedAndTheOldShorthand() async throws {
        let db = CLIDatabase()
        let key = try await db.open(["--user", "ada"])
        for spelling in ["readyForExecution", "ready"] {
            let operation = try #require(try await db.object(["exec", "create", key])["operationId"] as? String)
            for status in ["started", "analyzed", spelling] {
                let moved = try await db.object(["exec", "set", key, operation, status])
                #expect(moved["status"] as? String == (status == "ready" ? "readyForExecution" : status), "\(status)")
            }
        }
        let help = try await Sessionctl.run(["exec", "set", "--help"])
        let text = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(text.contains("started, analyzed, readyForExecution, finished"), "\(help.stdout)")
        #expect(!text.contains("ready,"), "\(help.stdout)")
    }

    @Test func eventsTakeASessionByItsKeyAsSessionKeyOrTheOlderSession() async throws {
        let db = CLIDatabase()
        let key = try await db.open(["--user", "ada"])
        _ = try await db.open(["--user", "bob"])
        let byKey = try await db.array(["events", "--session-key", key])
        let byOldName = try await db.array(["events", "--session", key])
        #expect(!byKey.isEmpty && byKey.allSatisfy { $0["sessionKey"] as? String == key })
        #expect(byKey.compactMap { $0["seq"] as? Int } == byOldName.compactMap { $0["seq"] as? Int })
        #expect(try await db.run(["events", "--session-key", key, "--session", key]).status == 64)
        let help = try await Sessionctl.run(["events", "--help"])
        #expect(help.stdout.contains("--session-key <KEY>") && !help.stdout.contains("--session <"), "\(help.stdout)")
    }

    @Test func confSaysItIsASessionsConfigNotTheStoreOptions() async throws {
        let help = try await Sessionctl.run(["conf", "--help"])
        let text = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(text.contains("session's config") && text.contains("not the store's options"), "\(help.stdout)")
        let db = CLIDatabase()
        let key = try await db.open(["--user", "ada", "--conf", "a=1"])
        let changed = try await db.object(["conf", "set", key, "a=2"])
        #expect(changed["config"] as? [String: String] == ["a": "2"])
    }
}
