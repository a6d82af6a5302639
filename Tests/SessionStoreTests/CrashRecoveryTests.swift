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
            #expect(
                report.rearmEpoch == nil,
                "round \(round): the killed load ran no sweeper, so its death re-arms nothing: \(report)")

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
