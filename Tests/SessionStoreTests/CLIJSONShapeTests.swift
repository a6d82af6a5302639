import Foundation
import SessionStore
import Subprocess
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every subcommand of the built `sessionctl` run with `--json` on a prepared file, its
/// output checked against the shape declared for it (``CLIShapes``), also when there is
/// nothing to list: one shape per command whatever the data, one JSON document, or JSON
/// Lines for what keeps printing.
@Suite(.timeLimit(.minutes(10))) struct CLIJSONShapeTests {
    /// The file a case runs on, made afresh for each case.
    enum Fixture: Sendable {
        /// Sessions, links, executions (one running), a streaming query, resources (one
        /// released), a refused open and a session that never expires.
        case prepared
        /// One session that owns nothing.
        case bare
        /// `init` only: no sessions, no events.
        case new
        /// No file yet (a command that creates it).
        case none
        /// No `--db` at all (the command uses files of its own).
        case noDatabase
    }

    /// How a case's process ends.
    enum Ending: Sendable {
        /// By itself, with status 0.
        case exits
        /// SIGINT once it printed a line (on stderr for serve), then the status.
        case interruptAfterOutput(status: Int32)
        /// SIGINT once it printed two lines while sessions start and stop (watch).
        case interruptWhileSessionsChange
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let command: [String]
        let arguments: [String]
        var fixture = Fixture.prepared
        let output: JSONOutput
        var ending = Ending.exits

        var testDescription: String {
            (["sessionctl"] + command + arguments + ["--json", "(\(fixture))"]).joined(separator: " ")
        }
    }

    /// The commands ArgumentParser adds itself, which print usage rather than results.
    static let withoutJSON: Set<String> = ["help"]

    static func document(_ command: [String], _ arguments: [String], on fixture: Fixture = .prepared, _ shape: JSONShape) -> Case {
        Case(command: command, arguments: arguments, fixture: fixture, output: .document(shape))
    }

    static func document(_ command: [String], on fixture: Fixture = .prepared, _ shape: JSONShape) -> Case {
        document(command, [], on: fixture, shape)
    }

    static let cases: [Case] = [
        document(["init"], CLIShapes.initialized),
        document(["init"], on: .none, CLIShapes.initialized),
        document(["status"], CLIShapes.status),
        document(["status"], on: .new, CLIShapes.status),
        document(["doctor"], CLIShapes.doctor),
        document(["config"], CLIShapes.config),
        document(["options"], CLIShapes.config),
        document(["open"], ["--user", "dan"], CLIShapes.opened),
        document(["open"], ["--user", "ada", "--session-id", "42", "--reconnect"], CLIShapes.opened),
        document(["get"], ["$KEY"], CLIShapes.session),
        document(["list"], .array(CLIShapes.session)),
        document(["list"], on: .new, .array(CLIShapes.session)),
        document(["current"], .array(CLIShapes.session)),
        document(["current"], on: .new, .array(CLIShapes.session)),
        document(["touch"], ["$KEY"], CLIShapes.touched),
        document(["close"], ["$KEY"], CLIShapes.closed),
        document(["details", "set"], ["$KEY", "a=1"], CLIShapes.session),
        document(["details", "unset"], ["$KEY", "color"], CLIShapes.session),
        document(["conf", "set"], ["$KEY", "k=v"], CLIShapes.session),
        document(["identifier"], ["$KEY", "ident"], CLIShapes.session),
        document(["link"], ["$KEY", "$SPARE"], CLIShapes.session),
        document(["tree"], ["$KEY"], CLIShapes.tree),
        document(["events"], .array(CLIShapes.event)),
        document(["events"], on: .new, .array(CLIShapes.event)),
        Case(command: ["events"], arguments: ["--follow"], output: .lines(CLIShapes.event, atLeast: 1), ending: .interruptAfterOutput(status: 130)),
        document(["exec", "create"], ["$KEY"], CLIShapes.execution),
        document(["exec", "get"], ["$KEY", "$OP"], CLIShapes.execution),
        document(["exec", "set"], ["$KEY", "$OP", "started"], CLIShapes.execution),
        document(["exec", "attach"], ["$KEY", "$OP"], CLIShapes.execution),
        document(["exec", "detach"], ["$KEY", "$RUNNING"], CLIShapes.execution),
        document(["exec", "list"], ["$KEY"], CLIShapes.executionList),
        document(["exec", "list"], ["--active"], CLIShapes.executionList),
        document(["exec", "list"], ["--abandoned"], CLIShapes.executionList),
        document(["exec", "list"], ["$KEY"], on: .bare, CLIShapes.executionList),
        document(["exec", "list"], ["--active"], on: .bare, CLIShapes.executionList),
        document(["exec", "list"], ["--active"], on: .new, CLIShapes.executionList),
        document(["interrupt"], ["$KEY", "--all"], CLIShapes.interrupted),
        document(["interrupt"], ["$KEY", "--all"], on: .bare, CLIShapes.interrupted),
        document(["query", "register"], ["$KEY", "q2", "--name", "n2"], CLIShapes.query),
        document(["query", "stop"], ["$KEY", "$QUERY"], CLIShapes.query),
        document(["query", "get"], ["$KEY", "$QUERY"], CLIShapes.query),
        document(["query", "remove"], ["$KEY", "$QUERY"], CLIShapes.query),
        document(["query", "list"], ["$KEY"], .array(CLIShapes.query)),
        document(["query", "list"], ["$KEY"], on: .bare, .array(CLIShapes.query)),
        document(["resource", "add"], ["$KEY", "file", "f3"], CLIShapes.resource),
        document(["resource", "release"], ["$KEY", "file", "f1"], CLIShapes.resource),
        document(["resource", "list"], ["$KEY"], .array(CLIShapes.resource)),
        document(["resource", "list"], ["$KEY"], on: .bare, .array(CLIShapes.resource)),
        document(["sweep"], CLIShapes.sweep),
        Case(command: ["serve"], arguments: [], output: .logLines(CLIShapes.logLine, atLeast: 1), ending: .interruptAfterOutput(status: 0)),
        Case(command: ["watch"], arguments: [], output: .lines(CLIShapes.watched, atLeast: 2), ending: .interruptWhileSessionsChange),
        document(["subscribe"], ["s1"], .array(CLIShapes.event)),
        document(["subscribe"], ["s1"], on: .new, .array(CLIShapes.event)),
        Case(command: ["subscribe"], arguments: ["s1", "--follow"], output: .lines(CLIShapes.event, atLeast: 1), ending: .interruptAfterOutput(status: 130)),
        document(["releases"], ["--subscription", "r1"], .array(CLIShapes.release)),
        document(["releases"], ["--subscription", "r1"], on: .new, .array(CLIShapes.release)),
        Case(
            command: ["releases"], arguments: ["--subscription", "r1", "--follow"], output: .lines(CLIShapes.release, atLeast: 1),
            ending: .interruptAfterOutput(status: 130)),
        Case(command: ["load"], arguments: ["--sessions", "3", "--executions", "1"], output: .lines(CLIShapes.loadLine, atLeast: 3)),
        document(["metrics"], CLIShapes.metrics),
        document(["metrics"], on: .new, CLIShapes.metrics),
        document(["top"], CLIShapes.top),
        document(["top"], ["--once"], CLIShapes.top),
        document(["top"], on: .new, CLIShapes.top),
        Case(command: ["demo"], arguments: [], fixture: .none, output: .lines(CLIShapes.demoLine, atLeast: 10)),
        document(["bench"], ["--scenario", "get", "--sessions", "1", "--operations", "1"], on: .noDatabase, .array(CLIShapes.benchResult)),
    ]

    /// The command tree as ArgumentParser serializes it from the root command's
    /// `configuration.subcommands`, recursively.
    static func commandTree() async throws -> [String: Any] {
        let dump = try await Sessionctl.run(["--experimental-dump-help"])
        try #require(dump.status == 0, "--experimental-dump-help: \(dump.stderr)")
        let tool = try #require(try dump.json() as? [String: Any])
        return try #require(tool["command"] as? [String: Any])
    }

    /// Every command that runs (one without subcommands), by its path, with its help text.
    static func leafCommands(_ command: [String: Any], path: [String] = []) -> [(path: String, help: String)] {
        let subcommands = command["subcommands"] as? [[String: Any]] ?? []
        guard subcommands.isEmpty else {
            return subcommands.flatMap { leafCommands($0, path: path + [$0["commandName"] as? String ?? "?"]) }
        }
        let arguments = command["arguments"] as? [[String: Any]] ?? []
        let texts = [command["abstract"], command["discussion"]] + arguments.map { $0["abstract"] }
        return [(path.joined(separator: " "), texts.compactMap { $0 as? String }.joined(separator: " "))]
    }

    /// A command added to the tree fails here until it has a case above, and a case of a
    /// command that is gone fails too.
    @Test func everySubcommandHasACase() async throws {
        let leaves = Set(Self.leafCommands(try await Self.commandTree()).map(\.path))
        #expect(leaves.count > 40, "found only \(leaves.count) commands: \(leaves.sorted())")
        let covered = Set(Self.cases.map { $0.command.joined(separator: " ") })
        let missing = leaves.subtracting(covered).subtracting(Self.withoutJSON)
        #expect(missing.isEmpty, "commands without a JSON shape case here: \(missing.sorted())")
        #expect(covered.subtracting(leaves).isEmpty, "cases of commands that do not exist: \(covered.subtracting(leaves).sorted())")
    }

    /// The help says what the output is: JSON Lines where it is lines, and a command whose
    /// help promises JSON Lines prints a document unless it follows.
    @Test func theHelpSaysWhenTheOutputIsJSONLines() async throws {
        let help = Dictionary(Self.leafCommands(try await Self.commandTree()).map { ($0.path, $0.help) }) { first, _ in first }
        for test in Self.cases {
            let text = try #require(help[test.command.joined(separator: " ")], "\(test.command)")
            let promisesLines = text.contains("JSON Lines") || text.contains("JSON line")
            if test.output.isLines {
                #expect(promisesLines, "\(test.command): prints JSON Lines, its help does not say so: \(text)")
            } else if promisesLines {
                #expect(!test.arguments.contains("--follow") && text.contains("--follow"), "\(test.command): \(text)")
            }
        }
    }

    @Test(arguments: cases)
    func printsItsDeclaredShape(_ test: Case) async throws {
        let directory = TemporaryDirectory()
        let values = try await Self.make(test.fixture, at: directory.path("sessions.sqlite"))
        var arguments = test.command + test.arguments.map { values[$0] ?? $0 } + ["--json"]
        if test.fixture != .noDatabase { arguments += ["--db", directory.path("sessions.sqlite")] }
        let outputPath = directory.path("stdout")
        let process = try await SpawnedSessionctl(arguments, standardOutputPath: outputPath)
        func stdout() -> String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

        let expected: Int32
        switch test.ending {
        case .exits:
            expected = 0
        case .interruptAfterOutput(let status):
            expected = status
            let deadline = ContinuousClock.now + .seconds(60)
            while !(stdout() + process.stderrText()).contains("\n"), process.isRunning, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(kill(process.pid, SIGINT) == 0)
        case .interruptWhileSessionsChange:
            expected = 130
            let database = CLIDatabase(path: directory.path("sessions.sqlite"))
            let deadline = ContinuousClock.now + .seconds(60)
            while stdout().split(separator: "\n").count < 2, process.isRunning, ContinuousClock.now < deadline {
                let key = try await database.open(["--user", "watched"])
                _ = try await database.object(["close", key])
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(kill(process.pid, SIGINT) == 0)
        }
        let status = await process.exit(within: .seconds(120))
        #expect(status?.shellStatus == expected, "exited \(status.map { "\($0)" } ?? "never"): \(process.stderrText())")
        // A command that creates the file says so on stderr, as a JSON line of its own.
        var stderr = process.stderrText()
        if test.fixture == .none {
            let notice = "{\"created\":\"\(directory.path("sessions.sqlite"))\"}\n"
            #expect(stderr.hasPrefix(notice), "no creation notice: \(stderr.prefix(300))")
            stderr = String(stderr.dropFirst(stderr.hasPrefix(notice) ? notice.count : 0))
        }
        let mismatches = test.output.mismatches(stdout: stdout(), stderr: stderr)
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    }

    /// The shapes the commands printed before, which varied with the data, fail the checks
    /// above: each check can fail.
    @Test func theOldShapesFail() {
        func fails(_ output: JSONOutput, _ stdout: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(!output.mismatches(stdout: stdout, stderr: "").isEmpty, "\(stdout)", sourceLocation: sourceLocation)
        }
        let time = "2026-01-02T03:04:05.678Z"
        // exec list printed an array while something ran.
        fails(.document(CLIShapes.executionList), "[]\n")
        // watch printed seq as text, and no user, state or reason.
        let watched = #"{"dataSource":"d","event":"start","reason":null,"sessionKey":"k","state":null,"userId":"u","at":"\#(time)""#
        fails(.lines(CLIShapes.watched, atLeast: 1), watched + #","seq":"7"}"# + "\n")
        fails(.lines(CLIShapes.watched, atLeast: 1), #"{"dataSource":"d","event":"start","seq":7,"sessionKey":"k"}"# + "\n")
        #expect(JSONOutput.lines(CLIShapes.watched, atLeast: 1).mismatches(stdout: watched + #","seq":7}"# + "\n", stderr: "").isEmpty)
        // releases and subscribe printed lines without --follow; the follow prints no array.
        let release = #"{"seq":1,"releasedAt":"\#(time)","sessionKey":"k","userId":null,"dataSource":null,"kind":"f","name":"n","bytes":1,"createdAt":null,"reason":null}"#
        fails(.document(.array(CLIShapes.release)), release + "\n" + release + "\n")
        fails(.lines(CLIShapes.release, atLeast: 1), "[" + release + "]\n")
        #expect(JSONOutput.document(.array(CLIShapes.release)).mismatches(stdout: "[" + release + "]\n", stderr: "").isEmpty)
        // A key left out where it was absent, a key more, and values of the wrong type.
        fails(.document(CLIShapes.resource), #"{"sessionKey":"k","kind":"f","name":"n","bytes":1}"# + "\n")
        fails(.document(CLIShapes.touched), #"{"key":"k","live":true,"result":"live","extra":1}"# + "\n")
        fails(.document(CLIShapes.touched), #"{"key":"k","live":1,"result":"live"}"# + "\n")
        fails(.document(CLIShapes.initialized), #"{"path":"p","schemaVersion":true}"# + "\n")
        fails(.document(CLIShapes.initialized), #"{"path":"p","schemaVersion":1.5}"# + "\n")
        fails(.document(CLIShapes.initialized), #"{"path":null,"schemaVersion":1}"# + "\n")
        fails(.document(CLIShapes.executionList), #"{"executions":[],"lastEndedAt":"2026-01-02"}"# + "\n")
        // Not one document on one line, and a serve log line that is text.
        fails(.document(CLIShapes.initialized), "{\"path\":\"p\",\n\"schemaVersion\":1}\n")
        #expect(!JSONOutput.logLines(CLIShapes.logLine, atLeast: 1).mismatches(stdout: "", stderr: "info: serving\n").isEmpty)
        fails(.lines(CLIShapes.event, atLeast: 1), "")
    }

    /// Payload fields the event kinds document as numbers and booleans print as JSON
    /// numbers and booleans, an id that reads as a number stays text, and the text output
    /// keeps them as they are stored.
    @Test func payloadNumbersPrintAsNumbers() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path("sessions.sqlite")
        let values = try await Self.make(.prepared, at: path)
        // A process killed with the store open leaves work for recovery: store.recovered.
        let killed = try await SpawnedSessionctl(["events", "--follow", "--db", path])
        #expect(await killed.waitForLines(atLeast: 1, within: .seconds(60)))
        #expect(kill(killed.pid, SIGKILL) == 0)
        _ = await killed.exit(within: .seconds(30))

        let db = CLIDatabase(path: path)
        let listed = try await db.run(["events", "--json"])
        #expect(listed.status == 0, "\(listed.stderr)")
        guard case .array(let events) = try JSONValue.parse(listed.stdout) else {
            Issue.record("events --json is not an array: \(listed.stdout.prefix(300))")
            return
        }
        func payloads(_ kind: EventKind) -> [[String: JSONValue]] {
            events.compactMap { event -> [String: JSONValue]? in
                guard case .object(let fields) = event, fields["kind"] == .string(kind.rawValue),
                    case .object(let payload) = fields["payload"]
                else { return nil }
                return payload
            }
        }
        let started = payloads(EventKind.sessionStarted)
        #expect(started.contains { $0["timeoutMs"] == .integer(3_600_000) && $0["sessionId"] == .string("42") })
        #expect(started.contains { $0["timeoutMs"] == .null }, "a session that never expires: \(started)")
        #expect(payloads(EventKind.sessionRefused).map { [$0["limit"], $0["live"]] } == [[.integer(1), .integer(1)]])
        #expect(Set(payloads(EventKind.executionCreated).compactMap { $0["reattachable"] }) == [.boolean(true), .boolean(false)])
        #expect(payloads(EventKind.resourceAdded).map { $0["bytes"] } == [.integer(10), .integer(20)])
        let released = try #require(payloads(EventKind.resourceReleased).first)
        #expect(released["bytes"] == .integer(20))
        guard case .integer(let createdAt) = released["createdAt"] else {
            Issue.record("createdAt is not a number: \(released)")
            return
        }
        #expect(createdAt > 1_700_000_000_000)
        #expect(payloads(EventKind.queryRegistered).map { $0["queryId"] } == [.string(values["$QUERY"] ?? "")])
        let recovered = try #require(payloads(EventKind.storeRecovered).first, "no store.recovered event")
        #expect(recovered["deadInstances"] == .integer(1))
        #expect(recovered["endedSessions"] == .integer(0))

        // The text output is unchanged: the stored text.
        let text = try await db.run(["events"])
        for pair in ["timeoutMs=3600000", "timeoutMs=never", "reattachable=true", "bytes=10", "limit=1", "deadInstances=1"] {
            #expect(text.stdout.contains(pair), "\(pair) not in the text output")
        }
    }

    /// Makes the fixture's file at `path`; returns the values of the `$NAME` arguments.
    static func make(_ fixture: Fixture, at path: String) async throws -> [String: String] {
        let db = CLIDatabase(path: path)
        switch fixture {
        case .none, .noDatabase:
            return [:]
        case .new:
            _ = try await db.object(["init"])
            return [:]
        case .bare:
            return ["$KEY": try await db.open(["--user", "solo"])]
        case .prepared:
            let key = try await db.open(["--user", "ada", "--session-id", "42", "--detail", "color=blue"])
            let child = try await db.open(["--user", "bob"])
            let spare = try await db.open(["--user", "bob", "--session-id", "spare"])
            _ = try await db.object(["link", key, child])
            _ = try await db.open(["--user", "carol", "--timeout", "never"])
            let operation = try #require(try await db.object(["exec", "create", key, "--reattachable"])["operationId"] as? String)
            let running = try #require(try await db.object(["exec", "create", key])["operationId"] as? String)
            _ = try await db.object(["exec", "set", key, running, "started"])
            _ = try await db.object(["query", "register", key, "123", "--name", "n"])
            _ = try await db.object(["resource", "add", key, "file", "f1", "--bytes", "10"])
            _ = try await db.object(["resource", "add", key, "file", "f2", "--bytes", "20"])
            _ = try await db.object(["resource", "release", key, "file", "f2"])
            #expect(try await db.failure(["open", "--user", "ada", "--set", "max-sessions-per-user=1"]) == "LIMIT_EXCEEDED.SESSIONS_PER_USER")
            return ["$KEY": key, "$SPARE": spare, "$OP": operation, "$RUNNING": running, "$QUERY": "123"]
        }
    }
}
