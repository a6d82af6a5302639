import Foundation
import SessionStore
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A process dies while another keeps serving the same file: the survivor's sweeper finds
/// it dead and finishes its work, with no process opening the store again.
@Suite struct InstanceLivenessSQLiteTests {
    @Test func aServingSurvivorRecoversAKilledProcessesExecutionsWithoutAnyReopen() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path("liveness.sqlite")
        // An instance timeout of an hour: on one host a dead process is found by its pid,
        // at the survivor's next pass, so recovery within the minute below is that check.
        let serve = try await SpawnedSessionctl([
            "--db", path, "serve", "--set", "tick=200ms", "--set", "heartbeat-interval=500ms", "--set", "instance-timeout=1h",
        ])
        try await MultiProcessSweepTests.waitUntilServing([serve], path: path)
        let load = try await SpawnedSessionctl([
            "--db", path, "load", "--sessions", "8", "--executions", "4", "--concurrency", "2", "--timeout", "1h",
            "--keep-open", "--hold", "--seed", "11",
        ])
        let holding = await MultiProcessSweepTests.eventually(within: .seconds(120)) {
            load.linesSoFar.contains { $0.contains("\"holding\"") }
        }
        try #require(holding, "the load did not finish its work: \(load.stderrText().suffix(2000))")

        let inspector = try CrashInspector(path: path)
        let instanceId = try #require(
            try inspector.strings("SELECT id FROM instances WHERE pid = \(load.pid)").first.flatMap { Int64($0) },
            "the load has no instance row")
        let running = "SELECT count(*) FROM executions WHERE status IN \(CrashRecoveryTests.runningStatuses) AND attached = 1"
        let toFail = try inspector.count("\(running) AND instance_id = \(instanceId) AND reattachable = 0")
        let toDetach = try inspector.count("\(running) AND instance_id = \(instanceId) AND reattachable = 1")
        try #require(toFail + toDetach > 0, "the load left no attached running execution")
        let serveInstance = try inspector.count("SELECT id FROM instances WHERE pid = \(serve.pid)")
        #expect(try inspector.count("SELECT count(*) FROM events WHERE kind = 'store.recovered'") == 0)

        #expect(kill(load.pid, SIGKILL) == 0)
        _ = await load.exit(within: .seconds(30))
        let killedAt = ContinuousClock.now
        let recovered = await MultiProcessSweepTests.eventually(within: .seconds(60)) {
            try CrashInspector(path: path).count("SELECT count(*) FROM events WHERE kind = 'store.recovered'") > 0
        }
        let waited = killedAt.duration(to: .now)
        try #require(recovered, "no recovery within a minute, while the instance timeout is an hour: \(serve.stderrText().suffix(2000))")
        print("InstanceLivenessSQLiteTests: recovered \(waited) after the kill (tick 200 ms), failed \(toFail), detached \(toDetach)")

        let after = try CrashInspector(path: path)
        let payload = try after.strings(
            """
            SELECT json_extract(payload, '$.instance'), json_extract(payload, '$.host'), json_extract(payload, '$.pid'),
                json_extract(payload, '$.failedExecutions'), json_extract(payload, '$.detachedExecutions')
            FROM events WHERE kind = 'store.recovered'
            """)
        #expect(
            payload == ["\(instanceId)|\(ProcessInfo.processInfo.hostName)|\(load.pid)|\(toFail)|\(toDetach)"],
            "one store.recovered event naming the dead instance, its host and pid: \(payload)")
        #expect(try after.count("\(running) AND instance_id = \(instanceId)") == 0, "the dead instance's executions still run attached")
        #expect(try after.count("SELECT count(*) FROM executions WHERE status = 'failed' AND error = 'server restarted'") == toFail)
        #expect(try after.count("SELECT count(*) FROM executions WHERE attached = 0 AND reattachable = 1 AND status = 'started'") >= toDetach)
        // Nobody opened the store again: the serving process is the only instance left.
        #expect(try after.strings("SELECT pid FROM instances") == ["\(serve.pid)"])
        #expect(try after.count("SELECT max(id) FROM instances") == serveInstance)
        #expect(serve.isRunning)
        await MultiProcessSweepTests.stop(serve, with: SIGTERM)
    }

    /// `sessionctl status` lists the other instances, live and dead, with host, pid,
    /// whether each sweeps and its last heartbeat on the store's clock.
    static let day: Int64 = 86_400_000

    @Test func statusListsLiveAndDeadInstances() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path("status.sqlite")
        #expect(try await Sessionctl.run(["--db", path, "init"]).status == 0)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        _ = try await SQLiteShell.rows(
            path,
            """
            INSERT INTO instances (host, pid, started_at, heartbeat_at, serving, serving_since)
            VALUES ('far-host', 99, \(now - 3 * Self.day), \(now - 2 * Self.day), 1, \(now - 3 * Self.day)),
                   ('near-host', 98, \(now - 1_000), \(now), 0, NULL)
            """)
        // An instance timeout of a day: the near host stays alive however slow this machine is.
        let text = try await Sessionctl.run(["--db", path, "status", "--set", "instance-timeout=1d"])
        #expect(text.status == 0, "\(text.stderr)")
        let lines = text.stdout.split(separator: "\n").map(String.init)
        let far = lines.first { $0.contains("host far-host") } ?? ""
        #expect(far.contains("pid 99, sweeping, last heartbeat \(Timestamp(milliseconds: now - 2 * Self.day).iso8601)"), "\(lines)")
        #expect(far.hasSuffix("dead (its work recovered by this command's open)"), "\(far)")
        let near = lines.first { $0.contains("host near-host") } ?? ""
        #expect(near.contains("pid 98, not sweeping") && near.hasSuffix("alive"), "\(near)")
        #expect(lines.first?.hasPrefix("serving: no") == true, "a dead sweeper does not serve: \(lines.first ?? "")")

        // The first command recovered far-host; another one dies for the JSON form.
        _ = try await SQLiteShell.rows(
            path,
            """
            INSERT INTO instances (host, pid, started_at, heartbeat_at, serving, serving_since)
            VALUES ('far-host', 99, \(now - 3 * Self.day), \(now - 2 * Self.day), 1, \(now - 3 * Self.day))
            """)
        let json = try await Sessionctl.run(["--db", path, "status", "--json", "--set", "instance-timeout=1d"])
        let object = try #require(try json.json() as? [String: Any])
        let instances = try #require(object["instances"] as? [[String: Any]])
        #expect(instances.map { $0["host"] as? String } == ["near-host", "far-host"])
        #expect(instances.map { $0["alive"] as? Bool } == [true, false])
        #expect(instances.map { $0["serving"] as? Bool } == [false, true])
        #expect(instances.map { $0["recovered"] as? Bool } == [false, true])
        // The next command finds it recovered: gone from the list.
        let again = try await Sessionctl.run(["--db", path, "status", "--set", "instance-timeout=1d"])
        #expect(!again.stdout.contains("far-host") && again.stdout.contains("near-host"), "\(again.stdout)")
    }
}
