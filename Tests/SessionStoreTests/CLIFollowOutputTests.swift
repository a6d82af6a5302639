import Foundation
import SessionStore
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The commands that print as things happen write each line at once also when stdout is
/// a file: `sessionctl watch > file` shows the lines while it runs, and a SIGTERM loses
/// none.
@Suite struct CLIFollowOutputTests {
    static let commands: [[String]] = [
        ["watch"],
        ["events", "--follow", "--kind", "session.started"],
        ["subscribe", "followers", "--follow"],
    ]

    @Test(arguments: commands)
    func linesReachAFileWhileTheCommandRuns(command: [String]) async throws {
        let directory = TemporaryDirectory()
        let path = directory.path("sessions.sqlite")
        let outputPath = directory.path("follow.out")
        let created = try await Sessionctl.run(["--db", path, "init"])
        #expect(created.status == 0, "init: \(created.stderr)")
        let follower = try await SpawnedSessionctl(["--db", path] + command, standardOutputPath: outputPath)

        // Open sessions until one shows up in the file: the command may not have started
        // following when the first is opened.
        var keys: [String] = []
        var line: String?
        let deadline = ContinuousClock.now + .seconds(60)
        while line == nil, follower.isRunning, ContinuousClock.now < deadline {
            let opened = try await Sessionctl.run(["--db", path, "open", "--user", "u-\(keys.count)", "--json"])
            #expect(opened.status == 0, "open: \(opened.stderr)")
            keys.append(try #require((try opened.json() as? [String: Any])?["key"] as? String))
            for _ in 0..<40 where line == nil {
                try await Task.sleep(for: .milliseconds(25))
                let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
                line = text.split(separator: "\n").first { written in keys.contains { written.contains($0) } }.map(String.init)
            }
        }
        let shown = try #require(line, "\(command) wrote no line to its file; stderr: \(follower.stderrText().suffix(2000))")
        #expect(follower.isRunning, "the line must show while the command runs")

        #expect(kill(follower.pid, SIGTERM) == 0)
        _ = await follower.exit(within: .seconds(30))
        let text = try String(contentsOfFile: outputPath, encoding: .utf8)
        #expect(text.contains(shown))
        #expect(text.hasSuffix("\n"), "a partial line was left: \(text.suffix(200))")
    }
}
