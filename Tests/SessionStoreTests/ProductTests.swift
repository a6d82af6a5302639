import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

/// What a newcomer meets: the demo, the inspection views and the metrics.
@Suite struct ProductTests {
    @Test func demoLeavesWhatItNarratesAndRunsTwice() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path("demo.sqlite")
        let first = try await Sessionctl.run(["demo", "--db", path])
        #expect(first.status == 0, "stderr: \(first.stderr)")
        for capability in [
            "Sessions", "Executions", "Limits", "LIMIT_EXCEEDED.SESSIONS_PER_USER", "Expiry", "stop notification received",
            "Crash and recovery", "INVALID_HANDLE.OPERATION_ABANDONED", "sqlite3",
        ] {
            #expect(first.stdout.contains(capability), "the demo's output does not mention \(capability)")
        }

        let database = try Database(path: path, configuration: DatabaseConfiguration(readOnly: true))
        func count(_ sql: String) throws -> Int64 { try database.fetchInt64(sql: sql) ?? -1 }
        #expect(try count("SELECT count(*) FROM live_sessions WHERE user_id IN ('alice', 'bob', 'carol')") >= 4)
        #expect(try count("SELECT count(*) FROM session_tree WHERE parent_user = 'carol' AND child_user = 'carol'") >= 1)
        #expect(try count("SELECT count(*) FROM active_executions WHERE user_id = 'bob'") >= 1)
        #expect(try count("SELECT count(*) FROM executions WHERE abandoned_at IS NOT NULL") >= 1)
        #expect(try count("SELECT count(*) FROM executions WHERE status = 'canceled'") >= 2)
        // The killed load generator's recovery; the demo's sweeper, a serving process, also
        // leaves a re-arm at the next open after it stops.
        #expect(try count("SELECT count(*) FROM recent_events WHERE kind = 'store.recovered' AND json_extract(payload, '$.deadInstances') = '1'") == 1)
        #expect(try count("SELECT count(*) FROM events WHERE kind = 'session.refused'") == 1)
        #expect(try count("SELECT count(*) FROM events WHERE kind = 'session.ended' AND json_extract(payload, '$.state') = 'expired'") >= 1)
        #expect(try count("SELECT count(*) FROM user_session_counts WHERE user_id = 'alice' AND live = 2") == 1)
        let created = try database.fetchOne(sql: "SELECT created FROM live_sessions LIMIT 1") { $0.string(0) }
        #expect(created?.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil)

        let second = try await Sessionctl.run(["demo", "--db", path])
        #expect(second.status == 0, "stderr: \(second.stderr)")
        #expect(try count("SELECT count(*) FROM events WHERE kind = 'store.recovered' AND json_extract(payload, '$.deadInstances') = '1'") == 2)
        #expect(try await Sessionctl.run(["doctor", "--db", path]).status == 0)
    }

    @Test func metricsArePrometheusTextThatMatchesTheFile() async throws {
        let test = TestStore(start: TestStore.realTime(offsetBy: 86_400))
        try await test.withStore { $0.limits.maxSessionsPerUser = 2 } body: { store in
            var keys: [String] = []
            for index in 0..<3 {
                keys.append(try await store.openSession(userId: "ada", sessionId: "s\(index)", dataSource: "metrics").key)
                if index == 1 { try await store.closeSession(key: keys[0]) }
            }
            _ = try? await store.openSession(userId: "ada", dataSource: "metrics")
            let execution = try await store.createExecution(key: keys[1])
            try await store.setExecutionStatus(key: keys[1], operationId: execution.operationId, to: .started)
        }

        let result = try await Sessionctl.run(["metrics", "--db", test.path])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let samples = try PrometheusText.parse(result.stdout)

        let live = try test.count("SELECT count(*) FROM sessions WHERE state IN ('idle', 'active') AND data_source = 'metrics'")
        let active = try test.count("SELECT count(*) FROM sessions WHERE state = 'active' AND data_source = 'metrics'")
        // A state without a live session has no series: its count row is deleted at 0.
        let activeSample = samples.value("sessionstore_sessions", ["state": "active", "data_source": "metrics"])
        #expect(active == 0 ? activeSample == nil : activeSample == Double(active))
        #expect(samples.value("sessionstore_sessions", ["state": "idle", "data_source": "metrics"]) == Double(live - active))
        #expect(samples.value("sessionstore_file_sessions_opened_total") == Double(try test.count("SELECT count(*) FROM sessions")))
        #expect(samples.value("sessionstore_file_sessions_ended_total", ["state": "closed"]) == Double(try test.count("SELECT count(*) FROM sessions WHERE state = 'closed'")))
        #expect(samples.value("sessionstore_file_session_refusals_total", ["code": "LIMIT_EXCEEDED.SESSIONS_PER_USER"]) == 1)
        #expect(samples.value("sessionstore_executions_running", ["status": "started"]) == 1)
        #expect(samples.types["sessionstore_sessions"] == "gauge")
    }
}

/// A small parser of the Prometheus text exposition format: `# TYPE` lines and samples
/// `name{label="value",...} number`.
struct PrometheusText {
    struct Sample: Hashable {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    var samples: [Sample] = []
    var types: [String: String] = [:]

    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    struct ParseError: Error, CustomStringConvertible {
        let line: String
        var description: String { "not a Prometheus text line: \(line)" }
    }

    static func parse(_ text: String) throws -> PrometheusText {
        var result = PrometheusText()
        for line in text.split(separator: "\n").map(String.init) where !line.isEmpty {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4 else { throw ParseError(line: line) }
                result.types[String(parts[2])] = String(parts[3])
                continue
            }
            if line.hasPrefix("#") { continue }
            guard let match = line.wholeMatch(of: /([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)/),
                let value = Double(match.output.4)
            else { throw ParseError(line: line) }
            var labels: [String: String] = [:]
            if let body = match.output.3 {
                for pair in body.matches(of: /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/) {
                    labels[String(pair.output.1)] = String(pair.output.2)
                }
            }
            result.samples.append(Sample(name: String(match.output.1), labels: labels, value: value))
        }
        return result
    }
}
