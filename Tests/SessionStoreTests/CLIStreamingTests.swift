import Foundation
import SessionStore
import Testing

/// The commands that keep running: `watch`, `events --follow` and `top`.
@Suite struct CLIStreamingTests {
    @Test func watchAndFollowPrintChangesMadeByOtherProcesses() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path("stream.sqlite")
        #expect(try await Sessionctl.run(["init", "--db", path]).status == 0)

        let watch = try await SpawnedSessionctl(["watch", "--data-source", "ds1", "--json", "--db", path])
        let watchText = try await SpawnedSessionctl(["watch", "--data-source", "ds1", "--db", path])
        let follow = try await SpawnedSessionctl(["events", "--follow", "--json", "--db", path])
        // Both print nothing until something happens; give them a moment to subscribe.
        try await Task.sleep(for: .milliseconds(500))

        let opened = try await Sessionctl.run(["open", "--user", "ada", "--data-source", "ds1", "--json", "--db", path])
        let other = try await Sessionctl.run(["open", "--user", "bob", "--data-source", "ds2", "--json", "--db", path])
        #expect(opened.status == 0 && other.status == 0)
        let key = try #require((try opened.json() as? [String: Any])?["key"] as? String)
        #expect(try await Sessionctl.run(["close", key, "--db", path]).status == 0)

        #expect(await watch.waitForLines(atLeast: 2, within: .seconds(30)))
        #expect(await watchText.waitForLines(atLeast: 2, within: .seconds(30)))
        #expect(await follow.waitForLines(atLeast: 3, within: .seconds(30)))
        kill(watch.pid, SIGTERM)
        kill(watchText.pid, SIGTERM)
        kill(follow.pid, SIGTERM)
        _ = await watch.exit(within: .seconds(10))
        _ = await watchText.exit(within: .seconds(10))
        _ = await follow.exit(within: .seconds(10))

        // The text names the user, and for the stop the end state and the reason.
        let text = await watchText.completeLines()
        #expect(text.count == 2, "\(text)")
        #expect(text.first?.hasSuffix("  start  \(key)  ds1  ada") == true, "\(text)")
        #expect(text.last?.hasSuffix("  stop   \(key)  ds1  ada  closed (closed by client)") == true, "\(text)")

        let notifications = try await watch.completeLines().map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(notifications.map { $0["event"] as? String } == ["start", "stop"])
        #expect(notifications.allSatisfy { $0["sessionKey"] as? String == key && $0["dataSource"] as? String == "ds1" })
        // Who, and for the stop how it ended and why; seq a number.
        #expect(notifications.allSatisfy { $0["userId"] as? String == "ada" && $0["seq"] is Int })
        #expect(notifications.first?["state"] is NSNull && notifications.first?["reason"] is NSNull)
        #expect(notifications.last?["state"] as? String == "closed")
        #expect(notifications.last?["reason"] as? String == "closed by client")

        let events = try await follow.completeLines().map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        let kinds = events.compactMap { $0["kind"] as? String }
        #expect(kinds.filter { $0 == EventKind.sessionStarted.rawValue }.count == 2)
        #expect(kinds.contains(EventKind.sessionEnded.rawValue))
        let seqs = events.compactMap { $0["seq"] as? Int }
        #expect(seqs == seqs.sorted() && Set(seqs).count == seqs.count)
    }

    @Test func topPrintsOneFrameWithItsSections() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path("top.sqlite")
        #expect(try await Sessionctl.run(["open", "--user", "ada", "--data-source", "lake", "--db", path]).status == 0)
        let frame = try await Sessionctl.run(["top", "--once", "--db", path])
        #expect(frame.status == 0, "stderr: \(frame.stderr)")
        for section in ["SESSIONS", "EXECUTIONS RUNNING", "SWEEPER", "LAST EVENTS"] {
            #expect(frame.stdout.contains(section))
        }
        #expect(frame.stdout.contains("idle 1"))
        #expect(frame.stdout.contains("session.started"))
        #expect(try await Sessionctl.run(["top", "--once", "--interval", "0s", "--db", path]).status == 64)
    }

    /// Into a file (not a terminal) top writes no screen escapes: frames one after the
    /// other, a blank line apart; Ctrl-C still stops it.
    @Test func topIntoAFileWritesFramesABlankLineApart() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path("top.sqlite")
        #expect(try await Sessionctl.run(["init", "--db", path]).status == 0)
        let outputPath = directory.path("top.out")
        let top = try await SpawnedSessionctl(["top", "--interval", "100ms", "--db", path], standardOutputPath: outputPath)
        let heading = "sessionctl top — "
        func written() -> String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }
        let deadline = ContinuousClock.now + .seconds(60)
        while written().components(separatedBy: heading).count < 4, top.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(kill(top.pid, SIGINT) == 0)
        #expect(await top.exit(within: .seconds(30))?.shellStatus == 130)

        let text = written()
        let frames = text.components(separatedBy: heading).count - 1
        #expect(frames >= 3, "\(text)")
        #expect(!text.contains("\u{1B}"), "screen escapes in a file: \(text.debugDescription.prefix(300))")
        #expect(text.hasPrefix(heading))
        // Every frame after the first follows a blank line.
        #expect(text.components(separatedBy: "\n\n" + heading).count - 1 == frames - 1, "\(text)")
        #expect(text.hasSuffix("\n\n"))
    }
}
