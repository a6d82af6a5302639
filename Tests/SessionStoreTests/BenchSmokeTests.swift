import Foundation
import Subprocess
import Testing

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// The benchmark in a small configuration, so it never rots; real figures come from the
/// release-build commands in docs/performance.md.
@Suite struct BenchSmokeTests {
    @Test func everyScenarioRunsAndReportsItsFigures() async throws {
        let result = try await Sessionctl.run([
            "bench", "--scenario", "all", "--sessions", "300", "--due", "50", "--concurrency", "4", "--json",
        ])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let runs = try #require(try result.json() as? [[String: Any]])
        #expect(
            runs.map { $0["scenario"] as? String }
                == ["open", "touch", "touch-batch", "get", "close", "execution", "sweep", "recover", "mixed"])
        let batch = try #require(runs.first { $0["scenario"] as? String == "touch-batch" })
        // As many keys as touch touches, 100 a call.
        #expect(batch["operations"] as? Int == 1000)
        #expect(batch["batch"] as? Int == 100)
        #expect(abs((batch["keysPerSecond"] as? Double ?? 0) - 100 * (batch["opsPerSecond"] as? Double ?? 0)) < 1)
        for run in runs {
            for field in [
                "scenario", "durability", "groupCommit", "concurrency", "sessions", "operations", "opsPerSecond",
                "p50Micros", "p99Micros", "p999Micros", "maxMicros", "peakRSSBytes", "fileBytes",
            ] {
                #expect(run[field] != nil, "\(run["scenario"] ?? "?") lacks \(field)")
            }
            #expect((run["opsPerSecond"] as? Double ?? 0) > 0)
            #expect((run["operations"] as? Int ?? 0) > 0)
            #expect((run["peakRSSBytes"] as? Int ?? 0) > 0)
            #expect((run["fileBytes"] as? Int ?? 0) > 0)
            let p50 = run["p50Micros"] as? Double ?? -1
            let p99 = run["p99Micros"] as? Double ?? -1
            let max = run["maxMicros"] as? Double ?? -1
            #expect(p50 >= 0 && p50 <= p99 && p99 <= max)
        }
        let sweep = try #require(runs.first { $0["scenario"] as? String == "sweep" })
        let sweepNotes = try #require(sweep["notes"] as? [String: String])
        // Three passes, each on its own 50 due sessions.
        #expect(sweepNotes["expired"] == "50,50,50")
        #expect(sweepNotes["rowsExamined"] == "50,50,50")
        #expect(sweepNotes["passMs"]?.split(separator: ",").count == 3)
        let recover = try #require(runs.first { $0["scenario"] as? String == "recover" })
        let recoverNotes = try #require(recover["notes"] as? [String: String])
        #expect(recoverNotes["recovered"] == "true")
        #expect(recoverNotes["expiredByFirstSweep"] == "0")
    }

    @Test func compareRunsWithAndWithoutGroupCommit() async throws {
        let result = try await Sessionctl.run([
            "bench", "--scenario", "open", "--sessions", "200", "--concurrency", "16", "--compare", "--json",
        ])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let runs = try #require(try result.json() as? [[String: Any]])
        #expect(runs.map { $0["groupCommit"] as? Bool } == [true, false])
        #expect(result.stderr.contains("group commit is"))
        // The run without group commit names the disk's flush time, which bounds the
        // ratio: a number of microseconds, above zero.
        let notes = try #require(runs.last?["notes"] as? [String: String])
        let flush = try #require(notes["flushMicros"].flatMap(Double.init))
        #expect(flush > 0)
        #expect(result.stderr.contains("fdatasync on this disk: \(notes["flushMicros"] ?? "") µs"))
    }

    /// Ctrl-C or SIGTERM in the middle of a scenario removes the scenario's temporary
    /// database, WAL and shared-memory file, and ends the run with status 128 + signal.
    @Test(arguments: [SIGINT, SIGTERM])
    func anInterruptedRunRemovesItsTemporaryFiles(signal: Int32) async throws {
        let scratch = TemporaryDirectory()
        func benchFiles() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: scratch.url.path)) ?? []).filter { $0.hasPrefix("bench-") }.sorted()
        }
        let result = try await Subprocess.run(
            .path(FilePath(Sessionctl.executable.path)), arguments: ["bench", "--scenario", "open", "--sessions", "100000000"],
            environment: .inherit.updating(["TMPDIR": scratch.url.path]), input: .none, output: .discarded, error: .discarded
        ) { execution in
            // The scenario is under way once its WAL exists.
            let deadline = ContinuousClock.now + .seconds(120)
            while !benchFiles().contains(where: { $0.hasSuffix(".sqlite-wal") }), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            let running = benchFiles()
            #expect(running.count == 3, "\(running)")
            try execution.send(signal: Signal(rawValue: signal))
        }
        #expect(result.terminationStatus == .exited(128 + signal))
        #expect(benchFiles() == [])
    }

    /// Ctrl-C after the first scenario has finished prints it whole and the one under way
    /// with what it measured so far, marked interrupted, then exits 130.
    @Test func anInterruptedRunPrintsWhatItMeasured() async throws {
        let (status, stdout, stderr) = try await Self.interrupted(
            ["bench", "--sessions", "300", "--operations", "100000000", "--json"], once: "bench-touch-")
        #expect(status == .exited(130), "\(stderr)")
        let runs = try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [[String: Any]], "\(stdout)")
        #expect(runs.map { $0["scenario"] as? String } == ["open", "touch"])
        let open = try #require(runs.first)
        #expect(open["operations"] as? Int == 300)
        #expect((open["notes"] as? [String: String])?["interrupted"] == nil)
        let touch = try #require(runs.last)
        let note = try #require((touch["notes"] as? [String: String])?["interrupted"], "\(touch)")
        let measured = touch["operations"] as? Int ?? -1
        #expect(note == "after \(measured) of 100000000 operations")
        #expect(measured > 0 && (touch["opsPerSecond"] as? Double ?? 0) > 0, "\(touch)")
        #expect(stderr.isEmpty, "--json prints nothing else: \(stderr)")
    }

    /// In text the table names the scenario cut short, and stderr says its figures are partial.
    @Test func anInterruptedFirstScenarioPrintsItsPartialFigures() async throws {
        let (status, stdout, stderr) = try await Self.interrupted(
            ["bench", "--scenario", "open", "--sessions", "100000000"], once: "bench-open-")
        #expect(status == .exited(130))
        let rows = stdout.split(separator: "\n")
        #expect(rows.first?.hasPrefix("SCENARIO") == true, "\(stdout)")
        #expect(rows.count == 2 && rows.last?.hasPrefix("open ") == true, "\(stdout)")
        #expect(rows.last?.contains("interrupted=after ") == true && rows.last?.contains(" of 100000000 operations") == true, "\(stdout)")
        #expect(stderr.hasPrefix("interrupted: open stopped after "), "\(stderr)")
    }

    /// Runs `arguments` with a temporary directory of its own, sends SIGINT a second after
    /// a scenario's WAL named `once...` appears there (the scenario is under way), and
    /// returns how it ended and what it printed; its temporary files must be gone.
    static func interrupted(_ arguments: [String], once prefix: String) async throws -> (TerminationStatus, String, String) {
        let scratch = TemporaryDirectory()
        let output = TemporaryDirectory()
        func benchFiles() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: scratch.url.path)) ?? []).filter { $0.hasPrefix("bench-") }
        }
        let result = try await Subprocess.run(
            .path(FilePath(Sessionctl.executable.path)), arguments: Arguments(arguments),
            environment: .inherit.updating(["TMPDIR": scratch.url.path]), input: .none,
            output: .fileDescriptor(try ChildOutput.file(output.path("out")), closeAfterSpawningProcess: true),
            error: .fileDescriptor(try ChildOutput.file(output.path("err")), closeAfterSpawningProcess: true)
        ) { execution in
            let deadline = ContinuousClock.now + .seconds(120)
            while !benchFiles().contains(where: { $0.hasPrefix(prefix) && $0.hasSuffix(".sqlite-wal") }), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            try await Task.sleep(for: .seconds(1))
            try execution.send(signal: .interrupt)
        }
        #expect(benchFiles() == [], "an interrupted run leaves its files")
        let read = { (name: String) in String(decoding: FileManager.default.contents(atPath: output.path(name)) ?? Data(), as: UTF8.self) }
        return (result.terminationStatus, read("out"), read("err"))
    }

    @Test func badOptionsAreUsageErrors() async throws {
        #expect(try await Sessionctl.run(["bench", "--scenario", "nope"]).status == 64)
        #expect(try await Sessionctl.run(["bench", "--durability", "sometimes"]).status == 64)
        #expect(try await Sessionctl.run(["bench", "--sessions", "0"]).status == 64)
    }
}
