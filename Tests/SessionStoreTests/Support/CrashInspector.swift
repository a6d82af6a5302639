import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

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
        // The killed load ran no sweeper: not a serving process, so nothing is re-armed.
        #expect(
            try count("SELECT count(*) FROM store_state WHERE name = 'rearm_epoch'") == 0, "round \(round)",
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
