import Foundation
import Logging
import SessionStore
import Testing

/// What an operator's tools see: `sessionctl metrics` as Prometheus reads it, the
/// instruments a service's metrics factory receives, and the store's log lines.
@Suite struct ObservabilityTests {
    // MARK: Metrics

    @Test func metricsCommandFollowsThePrometheusTextRules() async throws {
        let test = TestStore(start: TestStore.realTime(offsetBy: 86_400))
        try await test.withStore { $0.limits.maxSessionsPerUser = 2 } body: { store in
            let first = try await store.openSession(userId: "ada", dataSource: "north")
            let second = try await store.openSession(userId: "ada", dataSource: "south")
            _ = try? await store.openSession(userId: "ada")
            _ = try await store.closeSession(key: first.key)
            let execution = try await store.createExecution(key: second.key)
            try await store.setExecutionStatus(key: second.key, operationId: execution.operationId, to: .started)
            _ = try await store.sweep()
        }

        var runs: [CommandResult] = []
        for _ in 0..<2 { runs.append(try await Sessionctl.run(["metrics", "--db", test.path])) }
        for run in runs {
            #expect(run.status == 0, "stderr: \(run.stderr)")
        }
        let exposition = try PrometheusExposition(runs[0].stdout)
        #expect(exposition.violations.isEmpty, "\(exposition.violations)\n\(runs[0].stdout)")
        let counters = exposition.families.filter { $0.type == "counter" }.map(\.name)
        #expect(Set(counters) == [
            "sessionstore_file_sessions_opened_total", "sessionstore_file_sessions_ended_total",
            "sessionstore_file_session_refusals_total", "sessionstore_file_execution_transitions_total",
        ])
        // The same families, series and order every run (the sweeper lag's value moves).
        let again = try PrometheusExposition(runs[1].stdout)
        #expect(again.families.map(\.name) == exposition.families.map(\.name))
        #expect(again.families.map { $0.samples.map(\.series) } == exposition.families.map { $0.samples.map(\.series) })

        #expect(exposition.value("sessionstore_file_sessions_opened_total") == 2)
        #expect(exposition.value("sessionstore_file_sessions_ended_total", ["state": "closed"]) == 1)
        #expect(exposition.value("sessionstore_file_session_refusals_total", ["code": "LIMIT_EXCEEDED.SESSIONS_PER_USER"]) == 1)
        #expect(exposition.value("sessionstore_file_execution_transitions_total", ["status": "started"]) == 1)
        #expect(exposition.value("sessionstore_sessions", ["state": "idle", "data_source": "south"]) == 1)
        #expect(exposition.value("sessionstore_sweeper_pass_seconds") != nil)
    }

    @Test func theRulesCheckerCatchesWhatPrometheusWouldRefuse() throws {
        let missingHelp = try PrometheusExposition("# TYPE a_total counter\na_total 1\n")
        #expect(!missingHelp.violations.isEmpty)
        let gaugeTotal = try PrometheusExposition("# HELP opened Opened.\n# TYPE opened counter\nopened 1\n")
        #expect(!gaugeTotal.violations.isEmpty)
        let stray = try PrometheusExposition("# HELP a A.\n# TYPE a gauge\nb 1\n")
        #expect(!stray.violations.isEmpty)
        let duplicate = try PrometheusExposition("# HELP a A.\n# TYPE a gauge\na{x=\"1\"} 1\na{x=\"1\"} 2\n")
        #expect(!duplicate.violations.isEmpty)
        let twice = try PrometheusExposition("# HELP a A.\n# TYPE a gauge\na 1\n# HELP a A.\n# TYPE a gauge\n")
        #expect(!twice.violations.isEmpty)
    }

    @Test func theMetricsFactorySeesOperationTimersAndFileCounters() async throws {
        let test = TestStore()
        let factory = RecordingMetricsFactory()
        try await test.withStore { $0.metricsFactory = factory } body: { store in
            let session = try await store.openSession(userId: "ada")
            _ = try await store.openIsolatedSession(userId: "ada", sessionId: "nb-1")
            test.clock.advance(by: .milliseconds(60_000))
            #expect(try await store.touch(key: session.key) == .live)
            _ = try await store.closeSession(key: session.key)
            _ = try await store.sweep()

            let timer = "sessionstore_operation_duration_seconds"
            #expect(factory.timerValues(timer, ["operation": "open_session"]).count == 2)
            #expect(factory.timerValues(timer, ["operation": "touch"]).count == 1)
            #expect(factory.timerValues(timer, ["operation": "close_session"]).count == 1)
            #expect(factory.timerValues(timer, ["operation": "sweep"]).count == 1)
            #expect(factory.timerValues(timer, ["operation": "touch"]).allSatisfy { $0 > 0 })

            // The file's totals become counters that only grow by what the file's total grew.
            let opened = "sessionstore_file_sessions_opened_total"
            try await store.recordMetricsSnapshot()
            #expect(factory.counterTotal(opened) == 2)
            try await store.recordMetricsSnapshot()
            #expect(factory.counterTotal(opened) == 2)
            _ = try await store.openSession(userId: "bob")
            try await store.recordMetricsSnapshot()
            #expect(factory.counterTotal(opened) == 3)
            #expect(factory.counterTotal("sessionstore_file_sessions_ended_total", ["state": "closed"]) == 1)
            #expect(factory.gaugeValue("sessionstore_sessions", ["state": "idle", "data_source": "default"]) == 2)
        }
    }

    // MARK: Logging

    @Test func callMetadataReachesTheLinesOfCallsInsideTheScopeOnly() async throws {
        let test = TestStore()
        let lines = CapturedLogLines()
        let (inside, outside) = try await test.withStore { $0.logger = lines.logger() } body: { store in
            let inside = try await SessionStore.withLogMetadata(["request.id": "r1"]) {
                try await store.openSession(userId: "ada")
            }
            let outside = try await store.openSession(userId: "bob")
            try await SessionStore.withLogMetadata(["request.id": "r2"]) {
                try await SessionStore.withLogMetadata(["tenant.id": "t9"]) {
                    _ = try await store.closeSession(key: outside.key)
                }
            }
            _ = try await store.closeSession(key: inside.key)
            return (inside, outside)
        }

        let opened = lines.matching("session opened")
        #expect(opened.count == 2)
        #expect(opened.first { $0.metadata["session.key"] == inside.key }?.metadata["request.id"] == "r1")
        #expect(opened.first { $0.metadata["session.key"] == outside.key }?.metadata["request.id"] == nil)
        let ended = lines.matching("session ended")
        let nested = try #require(ended.first { $0.metadata["session.key"] == outside.key })
        #expect(nested.metadata["request.id"] == "r2" && nested.metadata["tenant.id"] == "t9")
        #expect(ended.first { $0.metadata["session.key"] == inside.key }?.metadata["request.id"] == nil)
    }

    @Test func theLibraryLogsOrdinaryWorkBelowInfo() async throws {
        let test = TestStore()
        let lines = CapturedLogLines()
        let configure: (inout SessionStoreConfiguration) -> Void = {
            $0.logger = lines.logger()
            $0.limits.maxSessionsPerUser = 1
        }
        try await test.withStore(configure) { store in
            let session = try await store.openSession(userId: "ada", timeout: .after(.milliseconds(5_000)))
            _ = try? await store.openSession(userId: "ada")
            #expect(try await store.touch(key: session.key) == .live)
            let execution = try await store.createExecution(key: session.key)
            try await store.setExecutionStatus(key: session.key, operationId: execution.operationId, to: .started)
            test.clock.advance(by: .milliseconds(3_600_000))
            _ = try await store.sweep()
            _ = try await store.openSession(userId: "bob")
        }
        // Reopened after a close: migrations already applied, nothing to recover.
        try await test.withStore(configure) { reopened in
        }

        #expect(!lines.matching("session opened").isEmpty && !lines.matching("session refused").isEmpty)
        let loud = lines.all().filter { $0.level >= .info }
        #expect(loud.isEmpty, "\(loud.map { "\($0.level) \($0.message)" })")
    }

    @Test func serveShowsTheStoresDebugLinesOnlyWhenAsked() async throws {
        let directory = TemporaryDirectory()
        func prepare(_ name: String) async throws -> String {
            let path = directory.path(name)
            let opened = try await Sessionctl.run(["open", "--db", path, "--user", "ada", "--timeout", "1s"])
            try #require(opened.status == 0, "stderr: \(opened.stderr)")
            return path
        }
        let quietPath = try await prepare("quiet.sqlite")
        let debugPath = try await prepare("debug.sqlite")
        let settings = ["--set", "tick=200ms", "--set", "heartbeat-interval=500ms"]
        let quiet = try await SpawnedSessionctl(["serve", "--db", quietPath] + settings)
        let debug = try await SpawnedSessionctl(["serve", "--db", debugPath, "--log-level", "debug"] + settings)
        let expired = await MultiProcessSweepTests.eventually(within: .seconds(60)) {
            try [quietPath, debugPath].allSatisfy { path in
                try CrashInspector(path: path).count("SELECT count(*) FROM sessions WHERE state = 'expired'") == 1
            }
        }
        #expect(expired, "quiet: \(quiet.stderrText()); debug: \(debug.stderrText())")
        await MultiProcessSweepTests.stop(quiet, with: SIGTERM)
        await MultiProcessSweepTests.stop(debug, with: SIGTERM)

        #expect(debug.stderrText().contains("session ended"), "\(debug.stderrText())")
        #expect(!quiet.stderrText().contains("session ended"), "\(quiet.stderrText())")
        #expect(quiet.stderrText().contains("serving"))

        let refused = try await Sessionctl.run(["serve", "--db", quietPath, "--log-level", "loud"])
        #expect(refused.status == 64, "\(refused.stderr)")
    }

    // MARK: Events

    @Test func eventsPagesPastTheLimitWithSince() async throws {
        let test = TestStore()
        let total = try await test.withStore { store in
            let total = 10_050
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        for index in stride(from: worker, to: total, by: 8) {
                            _ = try await store.openSession(userId: "user-\(index % 97)")
                        }
                    }
                }
                try await group.waitForAll()
            }
            return total
        }

        let help = try await Sessionctl.run(["events", "--help"])
        #expect(help.stdout.contains("10000") && help.stdout.contains("--since"), "\(help.stdout)")
        let tooMany = try await Sessionctl.run(["events", "--db", test.path, "--limit", "10001", "--json"])
        #expect(tooMany.status == 1 && tooMany.error()?.code == "INVALID_ARGUMENT.LIMIT")

        var seqs: [Int] = []
        var since = 0
        var pages = 0
        while true {
            let page = try await Sessionctl.run(["events", "--db", test.path, "--limit", "10000", "--since", "\(since)", "--json"])
            try #require(page.status == 0, "stderr: \(page.stderr)")
            let events = try #require(try page.json() as? [[String: Any]])
            guard let last = events.last?["seq"] as? Int else { break }
            seqs += events.compactMap { $0["seq"] as? Int }
            since = last
            pages += 1
        }
        #expect(pages == 2)
        #expect(seqs.count == total && Set(seqs).count == total && seqs == seqs.sorted())

        // The text output names the next page's --since when a page is full.
        let text = try await Sessionctl.run(["events", "--db", test.path, "--limit", "10000"])
        #expect(text.status == 0)
        #expect(text.stderr.contains("--since \(seqs[9_999])"), "\(text.stderr)")
    }
}
