import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

/// The sweeper's selection goes through `sessions_by_expiry`: what one pass reads follows
/// the number of sessions due, not the number live.
@Suite struct ExpiryIndexTests {
    typealias Kit = ExpiryKit

    /// The sweeper's due query as the store prepared it, picked from the statements
    /// `recorder` captured: the one that selects by `expire_at`.
    static func dueSQL(_ recorder: PreparedStatementPlanTests.Recorder) throws -> String {
        let due = recorder.statements.withLock { $0 }.filter { $0.contains("WHERE expire_at <= ?") && $0.hasPrefix("SELECT") }
        #expect(due.count == 1, "\(due)")
        return try #require(due.first)
    }

    static let dueSessions = 20
    static let batch: Int64 = 100

    static func checkPlan(_ plan: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(plan.contains { $0.contains("USING INDEX sessions_by_expiry") }, "plan: \(plan)", sourceLocation: sourceLocation)
        #expect(!plan.contains { $0.contains("SCAN sessions") }, "plan: \(plan)", sourceLocation: sourceLocation)
        #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "plan: \(plan)", sourceLocation: sourceLocation)
    }

    /// What one file measured.
    struct Measurement {
        var live: Int64
        var dueRows: Int
        var steps: Int
        var fullScanSteps: Int
        var plan: [String]
        var rowsExamined: Int
        var expired: Int
    }

    /// A file with `live` sessions that are not due plus the same 20 due sessions; the
    /// due query run through a prepared statement, then one sweep through the API.
    static func measure(live: Int) async throws -> Measurement {
        let test = TestStore()
        let recorder = PreparedStatementPlanTests.Recorder()
        let (plan, rows, steps, fullScan, report) = try await test.withStore {
            $0.tick = .milliseconds(1_000)
            $0.statementObserver = { recorder.record($0) }
        } body: { store in
            // The 20 that will be due, through the API.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<dueSessions {
                    group.addTask {
                        _ = try await store.openSession(userId: "due-\(index)", timeout: .after(.milliseconds(10_000)))
                    }
                }
                try await group.waitForAll()
            }
            // The live ones, straight into the table (every NOT NULL and CHECK column of
            // 0001/0002 given): an hour's timeout, so none is due.
            let now = test.clock.now()
            let writer = try Database(path: test.path)
            try writer.execute(
                sql: """
                    INSERT INTO sessions (
                        key, user_id, data_source, type, version, utc_offset_seconds, state, timeout_ms,
                        created_at, last_access_at, expire_at, config_changes, statements, failures
                    )
                    WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                    SELECT printf('%08x-0000-4000-8000-%012x', i, i), 'bulk-' || (i % 97), 'default', 'Session', 1, 0,
                        'idle', 3600000, ?, ?, ?, 0, 0, 0
                    FROM n
                    """, [.integer(Int64(live)), .integer(now), .integer(now), .integer(now + 3_600_000)])
            #expect(writer.changesCount == live)
            #expect(try test.count("SELECT count(*) FROM sessions WHERE state IN ('idle', 'active')") == Int64(live + dueSessions))

            // A pass while nothing is due prepares the due query, which is then measured as
            // the store wrote it.
            #expect(try await store.sweep().rowsExamined == 0)
            let dueSQL = try Self.dueSQL(recorder)
            test.clock.advance(by: .milliseconds(11_000))
            let sweepAt = test.clock.now()
            let plan = try test.queryPlan(dueSQL, [.integer(sweepAt), .integer(batch)])
            let (rows, steps, fullScan) = try test.inspect { db -> (Int, Int, Int) in
                let statement = try db.makeStatement(sql: dueSQL)
                try statement.bind([.integer(sweepAt), .integer(batch)])
                var rows = 0
                while try statement.step() { rows += 1 }
                return (rows, statement.virtualMachineSteps, statement.fullScanSteps)
            }
            let report = try await store.sweep()
            return (plan, rows, steps, fullScan, report)
        }
        return Measurement(
            live: Int64(live), dueRows: rows, steps: steps, fullScanSteps: fullScan, plan: plan,
            rowsExamined: report.rowsExamined, expired: report.expiredSessions.count)
    }

    /// Not timed: SQLite's virtual-machine step count for the due query is the same with
    /// 200 or 5,000 sessions live, because it reads only the 20 due rows.
    @Test func rowsReadByOnePassFollowTheNumberDueNotTheNumberLive() async throws {
        let small = try await Self.measure(live: 200)
        let large = try await Self.measure(live: 5_000)
        for measurement in [small, large] {
            #expect(measurement.dueRows == Self.dueSessions, "live \(measurement.live)")
            #expect(measurement.fullScanSteps == 0, "live \(measurement.live)")
            #expect(measurement.rowsExamined == Self.dueSessions, "live \(measurement.live)")
            #expect(measurement.expired == Self.dueSessions, "live \(measurement.live)")
            Self.checkPlan(measurement.plan)
        }
        #expect(small.steps > 0)
        #expect(
            Double(large.steps) < Double(small.steps) * 1.5,
            "VM steps: \(small.steps) with 200 live, \(large.steps) with 5000 live")
        // In practice they are equal (536 and 536 here): the index search visits the
        // same 20 entries.
        #expect(abs(large.steps - small.steps) <= 16, "VM steps: \(small.steps) vs \(large.steps)")
    }
}
