import Foundation
import SessionStore
import SessionStoreSQLite
import Subprocess
import Synchronization
import Testing

#if canImport(System)
import System
#else
import SystemPackage
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Crash-restart: a real `sessionctl load` is killed with SIGKILL at a random point, and
/// every reopen through the library must find a consistent file with every reported change
/// in it and the dead process's work finished as "Recovery on open" documents.
@Suite struct CrashRecoveryTests {
    static let runningStatuses = "('pending', 'started', 'analyzed', 'readyForExecution')"

    @Test func killedLoadIsRecoveredOnEveryReopen() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path("crash.sqlite")
        var reported = ReportedChanges()
        let rounds = 6

        for round in 1...rounds {
            let threshold = Int.random(in: 50...400)
            let seed = UInt64.random(in: 1...1_000_000_000)
            let load = try await SpawnedSessionctl([
                "--db", path, "load", "--sessions", "100000", "--executions", "2", "--concurrency", "8", "--seed", "\(seed)",
            ])
            let reached = await load.waitForLines(atLeast: threshold, within: .seconds(90))
            let pid = load.pid
            if reached {
                #expect(kill(pid, SIGKILL) == 0, "round \(round): kill failed, errno \(errno)")
            }
            // Returns once the waiting thread has reaped the process.
            let termination = await load.exit(within: .seconds(60))
            let lines = await load.completeLines()
            let stderr = load.stderrText()
            try #require(
                reached,
                "round \(round) (seed \(seed)): the load printed only \(lines.count) of \(threshold) lines; stderr: \(stderr.prefix(2000))")
            #expect(
                termination == .signaled(SIGKILL),
                "round \(round): the load did not die of SIGKILL: \(String(describing: termination))")
            #expect(kill(pid, 0) == -1 && errno == ESRCH, "round \(round): pid \(pid) still exists after being reaped")
            // A lone load on the file has nobody to contend with: no error line at all.
            #expect(
                SpawnedSessionctl.errorLines(stderr).isEmpty,
                "round \(round) (seed \(seed)): the load reported errors: \(stderr.prefix(2000))")
            try reported.apply(lines, round: round)

            // Before the reopen the file still shows the dead process as an instance,
            // and its unfinished executions as attached to it.
            let killed = try CrashInspector(path: path)
            #expect(
                try killed.strings("SELECT pid FROM instances") == ["\(pid)"],
                "round \(round): the killed load's instance row is not the only one")
            let orphaned = try killed.count(
                """
                SELECT count(*) FROM executions e JOIN instances i ON i.id = e.instance_id
                WHERE e.status IN \(Self.runningStatuses)
                """)
            let before = try killed.recoveryTotals()

            // The reopen: registers an instance, finds the dead one, recovers its work.
            let store = try await SessionStore.open(path: path)
            let recovery = store.recovery
            await store.close()
            let report = try #require(recovery, "round \(round) (seed \(seed), K \(threshold)): reopen after SIGKILL did no recovery")
            #expect(report.deadInstances == 1, "round \(round): \(report)")
            #expect(
                report.failedExecutions + report.detachedExecutions == Int(orphaned),
                "round \(round): \(orphaned) running executions were left by the killed load: \(report)")
            #expect(report.rearmEpoch != nil, "round \(round): no other instance survived, so live sessions are re-armed: \(report)")

            print(
                "CrashRecoveryTests round \(round): seed \(seed), killed after \(threshold) lines (\(lines.count) complete),"
                    + " recovery failed \(report.failedExecutions), detached \(report.detachedExecutions),"
                    + " ended \(report.endedSessions) sessions")

            let inspector = try CrashInspector(path: path)
            try inspector.expectConsistent(round: round)
            try inspector.expectRecovered(report, round: round, before: before, recoveredEvents: round)
            try inspector.expectReported(reported, round: round)

            // Opening an already recovered file does nothing.
            let again = try await SessionStore.open(path: path)
            let second = again.recovery
            await again.close()
            #expect(second == nil, "round \(round): a second open recovered again: \(String(describing: second))")
            let after = try CrashInspector(path: path)
            #expect(try after.count("SELECT count(*) FROM events WHERE kind = 'store.recovered'") == Int64(round))
            #expect(try after.count("SELECT count(*) FROM instances") == 0, "round \(round): instance rows left after clean closes")
        }
        #expect(reported.opened.count > 0)
        #expect(reported.executions.count > 0)
        print(
            "CrashRecoveryTests: \(reported.opened.count) sessions opened, \(reported.closed.count) closed,"
                + " \(reported.details.count) details, \(reported.executions.count) executions reported over \(rounds) kills")
    }
}

// MARK: - What the killed loads reported

/// Every change the loads printed before they died, accumulated over rounds on one file.
struct ReportedChanges {
    struct ReportedExecution {
        var sessionKey: String
        var reattachable: Bool
        var status: ExecutionStatus
        var round: Int
    }

    var opened: [String: (userId: String, dataSource: String)] = [:]
    var touched: [String: Bool] = [:]
    /// The last reported value of the detail `step`, by session key.
    var details: [String: String] = [:]
    var closed: Set<String> = []
    /// By "key operationId".
    var executions: [String: ReportedExecution] = [:]

    mutating func apply(_ lines: [String], round: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        for line in lines {
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)",
                sourceLocation: sourceLocation)
            let op = try #require(object["op"] as? String, "no op: \(line)", sourceLocation: sourceLocation)
            let key = try #require(object["key"] as? String, "no key: \(line)", sourceLocation: sourceLocation)
            switch op {
            case "open":
                opened[key] = (object["userId"] as? String ?? "", object["dataSource"] as? String ?? "")
            case "touch":
                touched[key] = object["live"] as? Bool ?? false
            case "details":
                #expect(object["name"] as? String == "step", "\(line)", sourceLocation: sourceLocation)
                details[key] = object["value"] as? String
            case "close":
                closed.insert(key)
            case "exec-create", "exec-status":
                let operationId = try #require(object["operationId"] as? String, "\(line)", sourceLocation: sourceLocation)
                let statusText = try #require(object["status"] as? String, "\(line)", sourceLocation: sourceLocation)
                let status = try #require(ExecutionStatus(rawValue: statusText), "\(line)", sourceLocation: sourceLocation)
                let id = key + " " + operationId
                if op == "exec-create" {
                    #expect(executions[id] == nil, "operation reported created twice: \(line)", sourceLocation: sourceLocation)
                    executions[id] = ReportedExecution(
                        sessionKey: key, reattachable: object["reattachable"] as? Bool ?? false, status: status, round: round)
                } else {
                    let previous = try #require(executions[id], "status before create: \(line)", sourceLocation: sourceLocation)
                    #expect(previous.status.canMove(to: status), "\(line) after \(previous.status)", sourceLocation: sourceLocation)
                    executions[id]?.status = status
                }
            default:
                Issue.record("unknown op in load output: \(line)", sourceLocation: sourceLocation)
            }
            if op != "open" {
                #expect(opened[key] != nil, "\(op) reported before open: \(line)", sourceLocation: sourceLocation)
            }
        }
    }
}

fileprivate extension ExecutionStatus {
    /// The statuses reachable from this one through ``allowedNext``, itself included.
    var reachable: Set<ExecutionStatus> {
        var seen: Set<ExecutionStatus> = [self]
        var frontier = [self]
        while let next = frontier.popLast() {
            for status in next.allowedNext where seen.insert(status).inserted {
                frontier.append(status)
            }
        }
        return seen
    }
}

// MARK: - Checks on the file

/// A read-only connection to a store file, as `sqlite3` would see it, with the checks a
/// crash or several processes must never break.
struct CrashInspector {
    let database: Database

    init(path: String) throws {
        database = try Database(path: path, configuration: DatabaseConfiguration(readOnly: true))
    }

    func count(_ sql: String, _ arguments: [DatabaseValue] = []) throws -> Int64 {
        try database.fetchInt64(sql: sql, arguments) ?? -1
    }

    func strings(_ sql: String, _ arguments: [DatabaseValue] = []) throws -> [String] {
        try database.fetchAll(sql: sql, arguments) { row in
            (0..<row.columnCount).map { row.isNull($0) ? "NULL" : row.string($0) }.joined(separator: "|")
        }
    }

    /// What earlier recoveries left, to tell this recovery's work from theirs.
    struct RecoveryTotals {
        var serverRestartedFailures: Int64
        var serverRestartedDetaches: Int64
    }

    func recoveryTotals() throws -> RecoveryTotals {
        RecoveryTotals(
            serverRestartedFailures: try count(
                "SELECT count(*) FROM executions WHERE status = 'failed' AND error = 'server restarted'"),
            serverRestartedDetaches: try count(
                """
                SELECT count(*) FROM events
                WHERE kind = 'execution.detached' AND json_extract(payload, '$.reason') = 'server restarted'
                """))
    }

    /// Storage and session invariants that hold whatever happened to the processes.
    func expectConsistent(round: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(try strings("PRAGMA integrity_check") == ["ok"], "round \(round)", sourceLocation: sourceLocation)
        #expect(try strings("PRAGMA foreign_key_check") == [], "round \(round)", sourceLocation: sourceLocation)
        let withoutStart = try strings(
            """
            SELECT s.key FROM sessions s
            WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.kind = 'session.started' AND e.session_key = s.key)
            """)
        #expect(withoutStart.isEmpty, "round \(round): sessions without session.started: \(withoutStart.prefix(5))", sourceLocation: sourceLocation)
        #expect(
            try count("SELECT count(*) FROM sessions WHERE state = 'closing'") == 0,
            "round \(round): half-ended sessions", sourceLocation: sourceLocation)
        let badEnded = try strings(
            """
            SELECT s.key, s.state, s.ended_at,
                (SELECT count(*) FROM events e WHERE e.kind = 'session.ended' AND e.session_key = s.key)
            FROM sessions s
            WHERE s.state IN ('closed', 'expired', 'failed')
                AND (s.ended_at IS NULL
                    OR (SELECT count(*) FROM events e WHERE e.kind = 'session.ended' AND e.session_key = s.key) <> 1)
            """)
        #expect(badEnded.isEmpty, "round \(round): ended sessions without ended_at or one session.ended: \(badEnded.prefix(5))", sourceLocation: sourceLocation)
        let endedEventButLive = try strings(
            """
            SELECT s.key, s.state FROM sessions s
            WHERE s.state IN ('idle', 'active')
                AND EXISTS (SELECT 1 FROM events e WHERE e.kind = 'session.ended' AND e.session_key = s.key)
            """)
        #expect(endedEventButLive.isEmpty, "round \(round): live sessions with a session.ended event: \(endedEventButLive.prefix(5))", sourceLocation: sourceLocation)
        // The end event agrees with the row.
        let mismatched = try strings(
            """
            SELECT s.key, s.state, json_extract(e.payload, '$.state') FROM sessions s
            JOIN events e ON e.kind = 'session.ended' AND e.session_key = s.key
            WHERE json_extract(e.payload, '$.state') IS NOT s.state
            """)
        #expect(mismatched.isEmpty, "round \(round): session.ended payload state differs from the row: \(mismatched.prefix(5))", sourceLocation: sourceLocation)
        // The live counts the limits read were kept in the transactions that changed them.
        let total = try count("SELECT count(*) FROM sessions WHERE ended_at IS NULL")
        let counted = try database.fetchInt64(sql: "SELECT live FROM live_session_counts WHERE scope = 'total' AND name = ''") ?? 0
        #expect(counted == total, "round \(round): live_session_counts total \(counted), live sessions \(total)", sourceLocation: sourceLocation)
        let perUser = try strings(
            """
            SELECT u.user_id, u.live, l.live FROM
                (SELECT user_id, count(*) AS live FROM sessions WHERE ended_at IS NULL GROUP BY user_id) u
            LEFT JOIN live_session_counts l ON l.scope = 'user' AND l.name = u.user_id
            WHERE l.live IS NOT u.live
            """)
        #expect(perUser.isEmpty, "round \(round): per-user live counts differ: \(perUser)", sourceLocation: sourceLocation)
    }

    /// After a recovery with nobody else on the file: the dead process's running work is
    /// finished as documented, and the recovery is recorded once.
    func expectRecovered(
        _ report: RecoveryReport, round: Int, before: RecoveryTotals, recoveredEvents: Int,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let running = CrashRecoveryTests.runningStatuses
        let stillRunningBadly = try strings(
            """
            SELECT operation_id, status, reattachable, attached, instance_id FROM executions
            WHERE status IN \(running) AND (reattachable = 0 OR attached = 1 OR instance_id IS NOT NULL)
            """)
        #expect(
            stillRunningBadly.isEmpty,
            "round \(round): running executions not failed or detached by recovery: \(stillRunningBadly.prefix(5))",
            sourceLocation: sourceLocation)
        #expect(
            try count("SELECT count(*) FROM sessions WHERE state = 'active'") == 0,
            "round \(round): sessions still active although none has an attached running execution",
            sourceLocation: sourceLocation)
        #expect(try count("SELECT count(*) FROM instances") == 0, "round \(round)", sourceLocation: sourceLocation)

        let after = try recoveryTotals()
        #expect(
            after.serverRestartedFailures - before.serverRestartedFailures == Int64(report.failedExecutions),
            "round \(round): \(report)", sourceLocation: sourceLocation)
        #expect(
            after.serverRestartedDetaches - before.serverRestartedDetaches == Int64(report.detachedExecutions),
            "round \(round): \(report)", sourceLocation: sourceLocation)
        #expect(
            try count("SELECT count(*) FROM events WHERE kind = 'store.recovered'") == Int64(recoveredEvents),
            "round \(round): one store.recovered event per kill", sourceLocation: sourceLocation)
        let last = try strings(
            """
            SELECT json_extract(payload, '$.deadInstances'), json_extract(payload, '$.failedExecutions'),
                json_extract(payload, '$.detachedExecutions'), json_extract(payload, '$.endedSessions')
            FROM events WHERE kind = 'store.recovered' ORDER BY seq DESC LIMIT 1
            """)
        #expect(
            last == ["1|\(report.failedExecutions)|\(report.detachedExecutions)|\(report.endedSessions)"],
            "round \(round): \(last) vs \(report)", sourceLocation: sourceLocation)
        #expect(
            try count("SELECT count(*) FROM store_state WHERE name = 'rearm_epoch'") == 1, "round \(round)",
            sourceLocation: sourceLocation)
    }

    /// Every change the loads reported is in the file (with nobody but the loads and
    /// recovery writing it).
    func expectReported(_ reported: ReportedChanges, round: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let sessions = try database.fetchAll(sql: "SELECT key, user_id, data_source, state, ended_at FROM sessions") { row in
            (key: row.string(0), userId: row.string(1), dataSource: row.string(2), state: row.string(3), ended: !row.isNull(4))
        }
        let byKey = Dictionary(sessions.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        var problems: [String] = []
        for (key, open) in reported.opened {
            guard let row = byKey[key] else {
                problems.append("opened session \(key) is missing")
                continue
            }
            if row.userId != open.userId || row.dataSource != open.dataSource {
                problems.append("session \(key) is \(row.userId)/\(row.dataSource), reported \(open.userId)/\(open.dataSource)")
            }
        }
        for (key, live) in reported.touched {
            if !live { problems.append("touch right after open said not live: \(key)") }
            if byKey[key] == nil { problems.append("touched session \(key) is missing") }
        }
        for key in reported.closed {
            if byKey[key]?.state != "closed" || byKey[key]?.ended != true {
                problems.append("closed session \(key) is \(byKey[key]?.state ?? "missing")")
            }
        }
        let details = try database.fetchAll(
            sql: "SELECT s.key, d.value FROM session_details d JOIN sessions s ON s.id = d.session_id WHERE d.name = 'step'"
        ) { ($0.string(0), $0.string(1)) }
        let stepByKey = Dictionary(details, uniquingKeysWith: { first, _ in first })
        for (key, value) in reported.details where stepByKey[key] != value {
            problems.append("detail step of \(key) is \(stepByKey[key] ?? "missing"), reported \(value)")
        }
        let executions = try database.fetchAll(
            sql: """
                SELECT s.key, e.operation_id, e.status, e.reattachable, e.attached, e.error, s.state
                FROM executions e JOIN sessions s ON s.id = e.session_id
                """
        ) { row in
            (
                id: row.string(0) + " " + row.string(1), status: row.string(2), reattachable: row.int64(3) == 1,
                attached: row.int64(4) == 1, error: row.optionalString(5), sessionState: row.string(6)
            )
        }
        let executionById = Dictionary(executions.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for (id, reportedExecution) in reported.executions {
            guard let row = executionById[id] else {
                problems.append("created execution \(id) is missing")
                continue
            }
            guard let status = ExecutionStatus(rawValue: row.status) else {
                problems.append("execution \(id) has unknown status \(row.status)")
                continue
            }
            if row.reattachable != reportedExecution.reattachable {
                problems.append("execution \(id) reattachable \(row.reattachable), reported \(reportedExecution.reattachable)")
            }
            if !reportedExecution.status.reachable.contains(status) {
                problems.append("execution \(id) is \(status), reported \(reportedExecution.status) which cannot lead there")
            }
            if status == .failed, row.error != "server restarted" {
                problems.append("execution \(id) failed with \(row.error ?? "no error"), but only recovery fails them")
            }
            if status == .canceled, ["idle", "active"].contains(row.sessionState) {
                problems.append("execution \(id) canceled in a live session (\(row.sessionState)); only a session's end cancels")
            }
            if status.isRunning, !row.reattachable || row.attached {
                problems.append("execution \(id) still \(status), reattachable \(row.reattachable), attached \(row.attached)")
            }
            if reported.closed.contains(reportedExecution.sessionKey), status.isRunning {
                problems.append("execution \(id) still \(status) in a closed session")
            }
        }
        #expect(
            problems.isEmpty, "round \(round): \(problems.count) reported changes missing or wrong: \(problems.prefix(10))",
            sourceLocation: sourceLocation)
    }
}

// MARK: - A sessionctl child process

/// A `sessionctl` started as a real process: stdout is read line by line as it arrives
/// (only complete lines are kept) and stderr collected, while a task waits for the exit.
/// A process still running when this is released is killed.
final class SpawnedSessionctl: Sendable {
    private struct ExitState {
        var termination: TerminationStatus?
        var waiters: [CheckedContinuation<TerminationStatus, Never>] = []
    }

    private struct OutputState {
        var lines: [String] = []
        var finished = false
        var stderr: [UInt8] = []
    }

    /// State shared with the task running the process.
    private final class Shared: Sendable {
        let exit = Mutex(ExitState())
        let output = Mutex(OutputState())
        let exited = Atomic<Bool>(false)
        /// Whether the process was started (and the pid handed over).
        let started = Atomic<Bool>(false)

        func ended(_ termination: TerminationStatus) {
            exited.store(true, ordering: .sequentiallyConsistent)
            let waiters = exit.withLock { state in
                state.termination = termination
                defer { state.waiters = [] }
                return state.waiters
            }
            waiters.forEach { $0.resume(returning: termination) }
        }
    }

    private final class Flag: Sendable {
        let value = Atomic<Bool>(false)
    }

    let arguments: [String]
    let pid: pid_t
    private let shared: Shared

    /// Starts `sessionctl` with `arguments`; returns once it runs.
    init(_ arguments: [String]) async throws {
        self.arguments = arguments
        let shared = Shared()
        self.shared = shared
        pid = try await withCheckedThrowingContinuation { (started: CheckedContinuation<pid_t, any Error>) in
            Task {
                do {
                    let result = try await Subprocess.run(
                        .path(FilePath(Sessionctl.executable.path)), arguments: Arguments(arguments),
                        environment: Sessionctl.environment(), input: .none, output: .sequence, error: .sequence
                    ) { execution in
                        shared.started.store(true, ordering: .sequentiallyConsistent)
                        started.resume(returning: execution.processIdentifier.value)
                        async let error: Void = Self.collect(execution.standardError, into: shared)
                        await Self.readLines(execution.standardOutput, into: shared)
                        await error
                    }
                    shared.ended(result.terminationStatus)
                } catch {
                    if shared.started.load(ordering: .sequentiallyConsistent) {
                        // Waiting for the process failed after it started: no status to report.
                        Issue.record("waiting for sessionctl \(arguments.joined(separator: " ")) failed: \(error)")
                        shared.output.withLock { $0.finished = true }
                        shared.ended(.exited(-1))
                    } else {
                        started.resume(throwing: error)
                    }
                }
            }
        }
    }

    deinit {
        if isRunning {
            kill(pid, SIGKILL)
        }
    }

    /// Reads `output` to its end; a read error ends it as the end of the stream would.
    private static func readLines(_ output: SubprocessOutputSequence, into shared: Shared) async {
        var pending: [UInt8] = []
        do {
            for try await buffer in output {
                buffer.withUnsafeBytes { pending.append(contentsOf: $0) }
                guard let lastNewline = pending.lastIndex(of: UInt8(ascii: "\n")) else { continue }
                let complete = pending[..<lastNewline].split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                    .map { String(decoding: $0, as: UTF8.self) }
                pending.removeSubrange(...lastNewline)
                shared.output.withLock { $0.lines += complete }
            }
        } catch {}
        shared.output.withLock { $0.finished = true }
    }

    private static func collect(_ error: SubprocessOutputSequence, into shared: Shared) async {
        do {
            for try await buffer in error {
                buffer.withUnsafeBytes { bytes in shared.output.withLock { $0.stderr += bytes } }
            }
        } catch {}
    }

    var lineCount: Int { shared.output.withLock { $0.lines.count } }

    var isRunning: Bool { !shared.exited.load(ordering: .sequentiallyConsistent) }

    /// Waits until the process has printed `count` complete lines; false when it exited
    /// first or `limit` passed (a guard against hangs, not a measurement).
    func waitForLines(atLeast count: Int, within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while lineCount < count {
            guard isRunning, ContinuousClock.now < deadline else { return lineCount >= count }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return true
    }

    /// Waits for the process to end; it has been reaped when this returns.
    func exit() async -> TerminationStatus {
        let shared = self.shared
        return await withCheckedContinuation { continuation in
            let done = shared.exit.withLock { state -> TerminationStatus? in
                if let termination = state.termination { return termination }
                state.waiters.append(continuation)
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    /// Waits for the process to end; after `limit` (a hang) it is killed, an issue is
    /// recorded and `nil` returned.
    func exit(within limit: Duration, sourceLocation: SourceLocation = #_sourceLocation) async -> TerminationStatus? {
        let timedOut = Flag()
        let pid = self.pid
        let shared = self.shared
        let guardTask = Task {
            try? await Task.sleep(for: limit)
            if !Task.isCancelled, !shared.exited.load(ordering: .sequentiallyConsistent) {
                timedOut.value.store(true, ordering: .sequentiallyConsistent)
                kill(pid, SIGKILL)
            }
        }
        let termination = await exit()
        guardTask.cancel()
        if timedOut.value.load(ordering: .sequentiallyConsistent) {
            Issue.record(
                "sessionctl \(arguments.joined(separator: " ")) did not end within \(limit); killed", sourceLocation: sourceLocation)
            return nil
        }
        return termination
    }

    /// Every complete stdout line, once the reader has drained the pipe after the exit.
    func completeLines() async -> [String] {
        while !shared.output.withLock({ $0.finished }) {
            try? await Task.sleep(for: .milliseconds(5))
        }
        return shared.output.withLock { $0.lines }
    }

    /// What the process has written to stderr so far.
    func stderrText() -> String {
        String(decoding: shared.output.withLock { $0.stderr }, as: UTF8.self)
    }

    /// The `{"op":"error",...}` lines of a load's stderr as (code, message); a line that
    /// is not JSON is returned as code `UNPARSED`.
    static func errorLines(_ stderr: String) -> [(code: String, message: String)] {
        stderr.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                return ("UNPARSED", String(line))
            }
            guard object["op"] as? String == "error" else { return nil }
            return (object["code"] as? String ?? "?", object["message"] as? String ?? "")
        }
    }
}
