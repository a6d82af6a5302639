import Foundation
import Subprocess
import Testing

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// The network benchmark in a small configuration, against the servers it starts itself.
@Suite struct NetworkBenchSmokeTests {
    @Test func spawnedServerScenariosReportTheirFigures() async throws {
        let scratch = TemporaryDirectory()
        let result = try await Sessionctl.run(
            [
                "bench", "--spawn-server", "--scenario", "all", "--sessions", "100", "--operations", "500",
                "--concurrency", "4", "--connections", "2", "--subscribers", "6", "--ends", "4", "--batch", "10", "--json",
            ],
            environment: ["TMPDIR": scratch.url.path])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let runs = try #require(try result.json() as? [[String: Any]])
        #expect(runs.map { $0["scenario"] as? String } == ["open", "touch", "touch-stream", "touch-batch", "get", "check", "notify"])
        for run in runs {
            let scenario = run["scenario"] as? String ?? "?"
            for field in [
                "scenario", "durability", "groupCommit", "concurrency", "sessions", "operations", "opsPerSecond",
                "p50Micros", "p99Micros", "p999Micros", "maxMicros", "peakRSSBytes", "fileBytes",
            ] {
                #expect(run[field] != nil, "\(scenario) lacks \(field)")
            }
            #expect((run["opsPerSecond"] as? Double ?? 0) > 0, "\(scenario)")
            // The server's peak and file, read while it ran.
            #expect((run["peakRSSBytes"] as? Int ?? 0) > 0, "\(scenario)")
            #expect((run["fileBytes"] as? Int ?? 0) > 0, "\(scenario)")
            let p50 = run["p50Micros"] as? Double ?? -1
            let p99 = run["p99Micros"] as? Double ?? -1
            let max = run["maxMicros"] as? Double ?? -1
            #expect(p50 > 0 && p50 <= p99 && p99 <= max, "\(scenario)")
            let notes = try #require(run["notes"] as? [String: String])
            #expect(notes["transport"] == "grpc")
            #expect(notes["connections"] == "2")
            #expect(notes["server"]?.hasPrefix("127.0.0.1:") == true)
            #expect((notes["clientPeakRSSBytes"].flatMap(Int.init) ?? 0) > 0)
        }
        let operations = runs.map { $0["operations"] as? Int }
        // open: --sessions calls; touch, touch-stream, get and check: --operations; touch-batch:
        // --operations keys in batches of 10; notify: 4 ends × 6 streams.
        #expect(operations == [100, 500, 500, 50, 500, 500, 24])
        let batch = try #require(runs.first { $0["scenario"] as? String == "touch-batch" })
        #expect(batch["batch"] as? Int == 10)
        let keysPerSecond = try #require(batch["keysPerSecond"] as? Double)
        #expect(abs(keysPerSecond - 10 * (batch["opsPerSecond"] as? Double ?? 0)) < 0.001 * keysPerSecond)
        let notify = try #require(runs.last?["notes"] as? [String: String])
        #expect(notify["subscribers"] == "6")
        #expect(notify["ends"] == "4")
        #expect(notify["expected"] == "24")
        #expect(notify["delivered"] == "24")
        #expect(notify["failedStreams"] == "0")
        #expect((notify["probes"].flatMap(Int.init) ?? 0) >= 1)
        // Each server's file and log are gone with it.
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).filter { $0.hasPrefix("bench-") }
        #expect(left == [])
    }

    @Test func setOptionsReachTheSpawnedServer() async throws {
        let limited = try await Sessionctl.run([
            "bench", "--spawn-server", "--scenario", "get", "--sessions", "20", "--operations", "50",
            "--set", "max-sessions=10", "--json",
        ])
        // The server refuses the 11th session: the option reached it.
        #expect(limited.status == 1)
        #expect(limited.stderr.contains("LIMIT_EXCEEDED.SESSIONS_TOTAL"), "\(limited.stderr)")
        let refused = try await Sessionctl.run([
            "bench", "--spawn-server", "--scenario", "get", "--sessions", "20", "--operations", "50", "--set", "no-such-option=1",
        ])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("exited before listening"), "\(refused.stderr)")
        #expect(refused.stderr.contains("no-such-option"), "\(refused.stderr)")
    }

    /// SIGTERM in the middle of a scenario stops the server the benchmark started and
    /// removes its file and log.
    @Test func anInterruptedRunStopsItsServer() async throws {
        let scratch = TemporaryDirectory()
        func benchFiles() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: scratch.url.path)) ?? []).filter { $0.hasPrefix("bench-") }.sorted()
        }
        var serverPid: pid_t?
        let result = try await Subprocess.run(
            .path(FilePath(Sessionctl.executable.path)),
            arguments: ["bench", "--spawn-server", "--scenario", "touch", "--sessions", "50", "--operations", "100000000"],
            environment: .inherit.updating(["TMPDIR": scratch.url.path]), input: .none, output: .discarded, error: .discarded
        ) { execution in
            // The server serves once its log names its pid.
            let deadline = ContinuousClock.now + .seconds(120)
            while serverPid == nil, ContinuousClock.now < deadline {
                for log in benchFiles() where log.hasSuffix(".serve.log") {
                    let text = (try? String(contentsOfFile: scratch.path(log), encoding: .utf8)) ?? ""
                    if let range = text.range(of: "process.pid=") {
                        serverPid = pid_t(text[range.upperBound...].prefix(while: \.isNumber))
                    }
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            try execution.send(signal: .terminate)
        }
        #expect(result.terminationStatus == .exited(128 + SIGTERM))
        #expect(benchFiles() == [])
        let pid = try #require(serverPid)
        // The server ends on its SIGTERM: its /proc entry goes, or stays as a zombie.
        let deadline = ContinuousClock.now + .seconds(30)
        func running() -> Bool {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
            return !(stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).hasPrefix("Z") ?? false)
        }
        while running(), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(!running())
    }

    @Test func badNetworkOptionsAreUsageErrors() async throws {
        #expect(try await Sessionctl.run(["bench", "--spawn-server", "--server", "127.0.0.1:1"]).status == 64)
        #expect(try await Sessionctl.run(["bench", "--spawn-server", "--scenario", "sweep"]).status == 64)
        #expect(try await Sessionctl.run(["bench", "--scenario", "notify"]).status == 64)
        #expect(try await Sessionctl.run(["bench", "--server", "nowhere"]).status == 64)
        #expect(try await Sessionctl.run(["bench", "--spawn-server", "--compare"]).status == 64)
        #expect(try await Sessionctl.run(["bench", "--spawn-server", "--connections", "0"]).status == 64)
        #expect(try await Sessionctl.run(["bench", "--operations", "0"]).status == 64)
    }
}
