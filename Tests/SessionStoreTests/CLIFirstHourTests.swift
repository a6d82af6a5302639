import Foundation
import SessionStore
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// End-to-end tests of what a new user meets first with the built `sessionctl`: a mistyped
/// `--db` creates nothing, a command that creates the file says so, `--version`, `touch`'s
/// exit status, and whether `status` and `top` see a process serving the file.
@Suite struct CLIFirstHourTests {
    /// A well-formed key no file holds.
    static let key = "0190a4b2-7c3d-7e8f-9a0b-1c2d3e4f5a6b"

    /// Every command that does not create the file, with the arguments it needs to get as
    /// far as opening it. The live views and followers would wait for ever on a file that
    /// exists: they run bounded (``runBounded(_:)``).
    static let commandsThatNeedTheFile: [[String]] = [
        ["list"], ["get", key], ["current"], ["events"], ["events", "--follow"], ["tree", key], ["status"], ["doctor"],
        ["top", "--once"], ["top"], ["watch"], ["metrics"], ["exec", "list", key], ["exec", "list", "--active"],
        ["exec", "get", key, key], ["query", "list", key], ["query", "get", key, "q"], ["resource", "list", key],
        ["subscribe", "reader"], ["subscribe", "reader", "--follow"], ["releases", "--subscription", "reader"],
        ["releases", "--subscription", "reader", "--follow"], ["touch", key], ["close", key], ["sweep"],
        ["details", "set", key, "a=1"], ["details", "unset", key, "a"], ["conf", "set", key, "k=v"],
        ["identifier", key, "id"], ["link", key, key], ["exec", "create", key], ["exec", "set", key, key, "started"],
        ["exec", "attach", key, key], ["exec", "detach", key, key], ["interrupt", key, "--all"],
        ["query", "register", key, "q", "--name", "n"], ["query", "stop", key, "q"], ["query", "remove", key, "q"],
        ["resource", "add", key, "file", "f"], ["resource", "release", key, "file", "f"],
    ]

    /// The result of a `sessionctl` run that must end within a minute (a hang is killed
    /// and recorded as an issue).
    struct Bounded {
        let status: Int32?
        let stdout: [String]
        let stderr: String
    }

    static func runBounded(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws -> Bounded {
        let process = try await SpawnedSessionctl(arguments)
        let termination = await process.exit(within: .seconds(60), sourceLocation: sourceLocation)
        return Bounded(status: termination?.shellStatus, stdout: await process.completeLines(), stderr: process.stderrText())
    }

    @Test(arguments: commandsThatNeedTheFile)
    func aMistypedDatabaseFailsNamingThePathAndCreatesNothing(_ command: [String]) async throws {
        let directory = TemporaryDirectory()
        let mistyped = directory.path("sesions.sqlite")

        let json = try await Self.runBounded(command + ["--db", mistyped, "--json"])
        #expect(json.status == 1, "\(command): \(json.stderr)")
        #expect(json.stdout.isEmpty, "\(command): \(json.stdout)")
        #expect(json.stderr.split(separator: "\n").count == 1, "\(command): \(json.stderr)")
        let error = try #require(CommandResult(status: 1, stdout: "", stderr: json.stderr).error(), "\(command): \(json.stderr)")
        #expect(error.code == "STORAGE.CANTOPEN", "\(command)")
        #expect(error.message.contains(mistyped), "\(command): \(error.message)")

        let text = try await Self.runBounded(command + ["--db", mistyped])
        #expect(text.status == 1, "\(command): \(text.stderr)")
        #expect(text.stderr.hasPrefix("error: STORAGE.CANTOPEN: "), "\(command): \(text.stderr)")
        #expect(text.stderr.contains(mistyped) && text.stderr.split(separator: "\n").count == 1, "\(command): \(text.stderr)")

        // Neither the file nor its -wal and -shm companions.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path) == [], "\(command)")
    }

    @Test func theErrorNamesTheFullPathOfARelativeOrEnvironmentPath() async throws {
        let directory = TemporaryDirectory()
        let environment = ["SESSIONSTORE_DB": directory.path("from-environment.sqlite")]
        let fromEnvironment = try await Sessionctl.run(["list"], environment: environment)
        #expect(fromEnvironment.status == 1)
        #expect(fromEnvironment.stderr.contains(directory.path("from-environment.sqlite")), "\(fromEnvironment.stderr)")

        let relative = try await Command.run(
            "/bin/sh", ["-c", "cd \"$1\" && exec \"$2\" list --db ./typo.sqlite", "sh", directory.url.path, Sessionctl.executable.path])
        #expect(relative.status == 1)
        #expect(relative.stderr.contains(directory.path("typo.sqlite")), "\(relative.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path) == [])
    }

    @Test func initCreatesTheFileAndSaysSoOnlyThen() async throws {
        let db = CLIDatabase()
        let first = try await db.run(["init"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr == "created \(db.path)\n")
        #expect(first.stdout.hasPrefix("\(db.path): schema version "))
        #expect(FileManager.default.fileExists(atPath: db.path))

        let second = try await db.run(["init"])
        #expect(second.status == 0)
        #expect(second.stderr.isEmpty, "\(second.stderr)")
        #expect(second.stdout == first.stdout)

        // Now the file exists, a read works and says nothing on stderr.
        let listed = try await db.run(["list", "--json"])
        #expect(listed.status == 0)
        #expect(listed.stderr.isEmpty, "\(listed.stderr)")
        #expect(listed.stdout == "[]\n")
    }

    @Test func withJSONTheCreationIsAJSONLineOnStderrAndStdoutIsUnchanged() async throws {
        let db = CLIDatabase()
        let created = try await db.run(["init", "--json"])
        #expect(created.status == 0)
        let notice = try JSONSerialization.jsonObject(with: Data(created.stderr.utf8)) as? [String: String]
        #expect(notice == ["created": db.path], "\(created.stderr)")
        let result = try #require(try created.json() as? [String: Any])
        #expect(Set(result.keys) == ["path", "schemaVersion"])
        #expect(result["path"] as? String == db.path)

        let again = try await db.run(["init", "--json"])
        #expect(again.stderr.isEmpty)
        #expect(again.stdout == created.stdout)
    }

    @Test func openAndLoadCreateTheFileAndSaySo() async throws {
        let opened = CLIDatabase()
        let open = try await opened.run(["open", "--user", "ada"])
        #expect(open.status == 0, "\(open.stderr)")
        #expect(open.stderr == "created \(opened.path)\n")
        let reopen = try await opened.run(["open", "--user", "ada"])
        #expect(reopen.status == 0)
        #expect(reopen.stderr.isEmpty, "\(reopen.stderr)")

        // load's stderr is JSON lines: the notice is one, and no error line.
        let loaded = CLIDatabase()
        let load = try await loaded.run(["load", "--sessions", "2", "--executions", "0"])
        #expect(load.status == 0, "\(load.stderr)")
        #expect(SpawnedSessionctl.errorLines(load.stderr).isEmpty, "\(load.stderr)")
        let lines = load.stderr.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String] }
        #expect(lines == [["created": loaded.path]], "\(load.stderr)")
    }

    @Test func versionPrintsTheVersion() async throws {
        let result = try await Sessionctl.run(["--version"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty)
        #expect(result.stdout.wholeMatch(of: /\d+\.\d+\.\d+\n/) != nil, "\(result.stdout)")
    }

    @Test func touchExitsZeroOnlyForALiveSession() async throws {
        let db = CLIDatabase()
        let live = try await db.open(["--user", "ada"])
        let touched = try await db.run(["touch", live])
        #expect(touched.status == 0)
        #expect(touched.stdout == "live\n")
        #expect(touched.stderr.isEmpty, "\(touched.stderr)")
        let touchedJSON = try await db.object(["touch", live])
        #expect(touchedJSON["result"] as? String == "live")

        _ = try await db.object(["close", live])
        let closed = try await db.run(["touch", live])
        #expect(closed.status == 1)
        #expect(closed.stdout == "closed\n")
        #expect(closed.stderr.hasPrefix("error: INVALID_HANDLE.SESSION_CLOSED: ") && closed.stderr.contains(live), "\(closed.stderr)")
        #expect(closed.stderr.split(separator: "\n").count == 1)
        // --json prints the result object and still fails.
        let closedJSON = try await db.run(["touch", live, "--json"])
        #expect(closedJSON.status == 1)
        let object = try #require(try closedJSON.json() as? [String: Any])
        #expect(object["result"] as? String == "closed")
        #expect(object["live"] as? Bool == false)
        #expect(closedJSON.error()?.code == "INVALID_HANDLE.SESSION_CLOSED", "\(closedJSON.stderr)")

        let unknown = try await db.run(["touch", Self.key, "--json"])
        #expect(unknown.status == 1)
        #expect((try? unknown.json() as? [String: Any])?["result"] as? String == "unknown")
        #expect(unknown.error()?.code == "INVALID_HANDLE.SESSION_NOT_FOUND", "\(unknown.stderr)")
    }

    @Test func touchOfAnExpiredSessionFailsWithSessionExpired() async throws {
        let db = CLIDatabase(options: ["--set", "tick=100ms", "--set", "min-timeout=100ms"])
        let session = try await db.object(["open", "--user", "ada", "--timeout", "1s"])
        let key = try #require(session["key"] as? String)
        let expireAt = try #require((session["expireAt"] as? String).flatMap(Timestamp.init(iso8601:)))
        // Past the expiry by the wall clock, without touching (a touch would extend it).
        while Int64(Date().timeIntervalSince1970 * 1000) <= expireAt.milliseconds + 200 {
            try await Task.sleep(for: .milliseconds(100))
        }
        let expired = try await db.run(["touch", key, "--json"])
        #expect(expired.status == 1)
        #expect((try? expired.json() as? [String: Any])?["result"] as? String == "expired")
        #expect(expired.error()?.code == "INVALID_HANDLE.SESSION_EXPIRED", "\(expired.stderr)")
    }

    @Test func statusAndTopSayWhetherServeIsServing() async throws {
        let db = CLIDatabase()
        _ = try await db.object(["init"])
        let idle = try await db.object(["status"])
        #expect(idle["serving"] as? Bool == false)
        #expect((idle["instances"] as? [Any])?.isEmpty == true, "status lists its own process: \(idle)")
        let idleText = try await db.run(["status"])
        #expect(idleText.stdout.hasPrefix("serving: no — no process is running the sweeper"), "\(idleText.stdout)")

        let serve = try await SpawnedSessionctl(["--db", db.path, "serve"])
        let started = await MultiProcessSweepTests.eventually(within: .seconds(60)) {
            !serve.isRunning || serve.stderrText().contains("serving")
        }
        try #require(started && serve.isRunning, "serve did not start: \(serve.stderrText())")

        // The sweeper's first pass may follow the "serving" line by a moment.
        var status: [String: Any] = [:]
        for _ in 0..<600 where status["sweeperLagMs"] as? Int == nil {
            status = try await db.object(["status"])
            if status["sweeperLagMs"] as? Int == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(status["serving"] as? Bool == true, "\(status)")
        let instances = try #require(status["instances"] as? [[String: Any]])
        #expect(instances.count == 1, "\(instances)")
        #expect(instances.first?["pid"] as? Int == Int(serve.pid))
        #expect(instances.first?["serving"] as? Bool == true)
        #expect(instances.first?["host"] as? String == ProcessInfo.processInfo.hostName)
        #expect((instances.first?["lastHeartbeat"] as? String).flatMap(Timestamp.init(iso8601:)) != nil, "\(instances)")
        #expect((status["sweeperLagMs"] as? Int ?? -1) >= 0, "\(status)")

        let text = try await db.run(["status"])
        let firstLine = text.stdout.split(separator: "\n").first.map(String.init) ?? ""
        #expect(firstLine.hasPrefix("serving: yes — 1 instance (host "), "\(firstLine)")
        #expect(firstLine.contains("pid \(serve.pid), heartbeat "), "\(firstLine)")
        #expect(firstLine.contains("sweeper last pass "), "\(firstLine)")
        let top = try await db.run(["top", "--once"])
        #expect(top.status == 0)
        let topLines = top.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(topLines.count > 1 && topLines[1].hasPrefix("serving: yes — 1 instance") && topLines[1].contains("pid \(serve.pid),"), "\(topLines.prefix(3))")

        await MultiProcessSweepTests.stop(serve, with: SIGTERM)
        let stopped = try await db.object(["status"])
        #expect(stopped["serving"] as? Bool == false, "\(stopped)")
        #expect((stopped["instances"] as? [Any])?.isEmpty == true, "\(stopped)")
        #expect(stopped["sweeperLagMs"] is Int, "\(stopped)")
        let stoppedText = try await db.run(["status"])
        #expect(stoppedText.stdout.hasPrefix("serving: no — "), "\(stoppedText.stdout)")
        let stoppedTop = try await db.run(["top", "--once"])
        #expect(stoppedTop.stdout.split(separator: "\n").dropFirst().first?.hasPrefix("serving: no — ") == true, "\(stoppedTop.stdout)")
    }
}
