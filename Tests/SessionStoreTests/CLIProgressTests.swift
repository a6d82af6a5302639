import Foundation
import Testing

/// `bench`, `load` and `sweep` show a progress line on stderr only when it is a terminal
/// and the output is text: rewritten with `\r` about every half second, cleared at the
/// end. Into a pipe or a file, or with --json, they print nothing extra. The terminal is
/// `script`'s pseudo-terminal.
@Suite(.timeLimit(.minutes(5))) struct CLIProgressTests {
    /// What redraws and clears the line.
    static let rewrite = "\r\u{1B}[K"

    static let script = "/usr/bin/script"

    /// A file of `count` sessions that expire after a second, made by `load`.
    static func loaded(_ count: Int, timeout: String = "1h") async throws -> CLIDatabase {
        let db = CLIDatabase()
        let load = try await db.run([
            "load", "--sessions", "\(count)", "--executions", "0", "--concurrency", "8", "--timeout", timeout,
        ])
        try #require(load.status == 0, "\(load.stderr)")
        return db
    }

    /// `arguments` run on a terminal (stdout discarded): what the terminal received.
    static func onTerminal(_ arguments: [String]) async throws -> (status: Int32, text: String) {
        let directory = TemporaryDirectory()
        let quoted = ([Sessionctl.executable.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let log = directory.path("typescript")
        let result = try await Command.run(script, ["-q", "-e", "-c", quoted.joined(separator: " ") + " >/dev/null", log])
        let text = String(decoding: FileManager.default.contents(atPath: log) ?? Data(), as: UTF8.self)
        return (result.status, text)
    }

    @Test func intoAPipeOrWithJSONNothingExtraIsPrinted() async throws {
        let db = try await Self.loaded(300)
        let runs: [[String]] = [
            ["bench", "--scenario", "touch", "--sessions", "200", "--operations", "20000"],
            ["bench", "--scenario", "touch", "--sessions", "200", "--operations", "20000", "--json"],
            ["load", "--db", db.path, "--sessions", "300", "--executions", "0"],
            ["load", "--db", db.path, "--sessions", "300", "--executions", "0", "--json"],
            ["sweep", "--db", db.path],
            ["sweep", "--db", db.path, "--json"],
        ]
        for arguments in runs {
            let result = try await Sessionctl.run(arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            #expect(result.stderr.isEmpty, "\(arguments) printed on stderr: \(result.stderr.debugDescription)")
            #expect(!result.stdout.contains("\r"), "\(arguments)")
        }
    }

    @Test
    func onATerminalTheLineShowsDoneTotalAndRate() async throws {
        let bench = try await Self.onTerminal(["bench", "--scenario", "touch", "--sessions", "200", "--operations", "400000"])
        #expect(bench.status == 0, "\(bench.text)")
        #expect(bench.text.contains(Self.rewrite + "touch  "), "\(bench.text.debugDescription)")
        #expect(bench.text.contains("/400000  "), "done/total: \(bench.text.debugDescription)")
        #expect(bench.text.contains("/s  "), "the rate: \(bench.text.debugDescription)")

        let db = CLIDatabase()
        let load = try await Self.onTerminal(["load", "--db", db.path, "--sessions", "3000", "--executions", "0", "--concurrency", "8"])
        #expect(load.status == 0, "\(load.text)")
        #expect(load.text.contains(Self.rewrite + "load  ") && load.text.contains("/3000  "), "\(load.text.debugDescription)")

        // The sweep of a small file ends before the first redraw; the line it would have
        // drawn is cleared all the same.
        let due = try await Self.loaded(200, timeout: "1s")
        try await Task.sleep(for: .seconds(2))
        let sweep = try await Self.onTerminal(["sweep", "--db", due.path])
        #expect(sweep.status == 0, "\(sweep.text)")
        #expect(sweep.text.contains(Self.rewrite), "\(sweep.text.debugDescription)")

        // --json keeps the terminal free of it.
        let json = try await Self.onTerminal(["bench", "--scenario", "touch", "--sessions", "200", "--operations", "400000", "--json"])
        #expect(json.status == 0)
        #expect(!json.text.contains(Self.rewrite), "\(json.text.debugDescription)")
    }
}
