import Foundation
import SessionStore
import Subprocess
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Ctrl-C on a live view is a clean stop, not a crash: the command closes the store (its
/// instance row goes) and exits 130 for SIGINT, 0 for SIGTERM, so the next command records
/// no `store.recovered` — the event that must mean a real crash.
@Suite(.timeLimit(.minutes(3))) struct CLIInterruptTests {
    static let commands: [[String]] = [
        ["top", "--interval", "100ms"],
        ["watch"],
        ["events", "--follow"],
        ["releases", "--subscription", "ops", "--follow"],
        ["subscribe", "ops", "--follow"],
    ]

    @Test(arguments: commands)
    func sigintEndsTheCommandCleanlyWith130(command: [String]) async throws {
        let status = try await Self.stop(command, with: SIGINT)
        #expect(status == .exited(130), "\(command) after SIGINT: \(status.map { "\($0)" } ?? "hung")")
    }

    @Test(arguments: [["top", "--interval", "100ms"], ["events", "--follow"]])
    func sigtermEndsTheCommandCleanlyWith0(command: [String]) async throws {
        let status = try await Self.stop(command, with: SIGTERM)
        #expect(status == .exited(0), "\(command) after SIGTERM: \(status.map { "\($0)" } ?? "hung")")
    }

    /// Runs `command` on a new file until it has opened the store, sends `signal`, and
    /// checks that it left no instance row and that the next open recorded no recovery.
    static func stop(_ command: [String], with signal: Int32) async throws -> TerminationStatus? {
        let database = CLIDatabase()
        let created = try await database.run(["init"])
        try #require(created.status == 0, "init: \(created.stderr)")
        let running = try await SpawnedSessionctl(command + ["--db", database.path], standardOutputPath: database.directory.path("out"))
        // The command traps the signals before it opens the store, so its instance row says
        // it is ready.
        let deadline = ContinuousClock.now + .seconds(60)
        while try await instances(database.path) == 0, running.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        try #require(running.isRunning, "\(command) ended early: \(running.stderrText())")
        try #require(try await instances(database.path) == 1, "\(command) never opened the store")
        #expect(kill(running.pid, signal) == 0)
        let status = await running.exit(within: .seconds(30))
        #expect(try await instances(database.path) == 0, "\(command) left its instance row behind")

        let listed = try await database.run(["list"])
        #expect(listed.status == 0, "list: \(listed.stderr)")
        let recoveries = try await SQLiteShell.rows(database.path, "SELECT count(*) FROM events WHERE kind = 'store.recovered'")
        #expect(recoveries == ["0"], "\(command): the next open recorded a recovery")
        return status
    }

    static func instances(_ path: String) async throws -> Int {
        Int(try await SQLiteShell.rows(path, "SELECT count(*) FROM instances").first ?? "") ?? -1
    }
}
