import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `list` in its orders, `events --tail`, and the stderr line of a listing that left rows
/// out (text output only): `list`, `events`, `subscribe` and `releases`.
@Suite struct CLIListingTests {
    /// Opens cy (10m), ab (never), bo (5m) and ab (20m), in that order; returns their keys.
    static func opened(_ db: CLIDatabase) async throws -> [String] {
        var keys: [String] = []
        for (user, timeout) in [("cy", "10m"), ("ab", "never"), ("bo", "5m"), ("ab", "20m")] {
            keys.append(try await db.open(["--user", user, "--timeout", timeout]))
        }
        return keys
    }

    @Test func listIsNewestFirstUnlessSortSaysOtherwise() async throws {
        let db = CLIDatabase()
        let keys = try await Self.opened(db)
        let (cy10, abNever, bo5, ab20) = (keys[0], keys[1], keys[2], keys[3])
        #expect(CLIDatabase.keys(try await db.array(["list"])) == [ab20, bo5, abNever, cy10])
        #expect(CLIDatabase.keys(try await db.array(["list", "--sort", "newest"])) == [ab20, bo5, abNever, cy10])
        #expect(CLIDatabase.keys(try await db.array(["list", "--sort", "created"])) == [cy10, abNever, bo5, ab20])
        #expect(CLIDatabase.keys(try await db.array(["list", "--sort", "user"])) == [abNever, ab20, bo5, cy10])
        #expect(CLIDatabase.keys(try await db.array(["list", "--sort", "expires"])) == [bo5, cy10, ab20, abNever])
        #expect(CLIDatabase.keys(try await db.array(["list", "--sort", "expires", "--user", "ab"])) == [ab20, abNever])

        let text = try await db.run(["list", "--sort", "user"])
        #expect(text.status == 0 && text.stderr.isEmpty, "\(text.stderr)")
        let users = text.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: " ", omittingEmptySubsequences: true)[1] }
        #expect(users == ["ab", "ab", "bo", "cy"])

        let unknown = try await db.run(["list", "--sort", "oldest"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("Usage: sessionctl list"), "\(unknown.stderr)")
    }

    @Test func aListCutByItsLimitSaysHowManySessionsWereNotShown() async throws {
        let db = CLIDatabase()
        _ = try await Self.opened(db)
        let cut = try await db.run(["list", "--limit", "3"])
        #expect(cut.status == 0)
        #expect(cut.stdout.split(separator: "\n").count == 4, "a header and 3 rows: \(cut.stdout)")
        #expect(cut.stderr == "1 more sessions not shown (--limit 3)\n")
        let byUser = try await db.run(["list", "--limit", "1", "--user", "ab"])
        #expect(byUser.stderr == "1 more sessions not shown (--limit 1)\n")

        let whole = try await db.run(["list", "--limit", "4"])
        #expect(whole.status == 0 && whole.stderr.isEmpty, "\(whole.stderr)")
        let json = try await db.run(["list", "--limit", "1", "--json"])
        #expect(json.status == 0 && json.stderr.isEmpty, "--json prints nothing extra: \(json.stderr)")
        #expect((try json.json() as? [Any])?.count == 1)
    }

    @Test func eventsTailPrintsTheLastEventsOldestOfThemFirst() async throws {
        let db = CLIDatabase()
        let keys = try await Self.opened(db)
        let all = try await db.array(["events", "--limit", "10000"])
        let seqs = all.compactMap { $0["seq"] as? Int }
        try #require(seqs.count >= 4)

        let tail = try await db.array(["events", "--tail", "2"])
        #expect(tail.compactMap { $0["seq"] as? Int } == Array(seqs.suffix(2)))
        let started = try await db.array(["events", "--tail", "2", "--kind", "session.started"])
        #expect(started.compactMap { $0["sessionKey"] as? String } == Array(keys.suffix(2)))
        let bySession = try await db.array(["events", "--tail", "5", "--session-key", keys[0]])
        #expect(bySession.allSatisfy { $0["sessionKey"] as? String == keys[0] } && !bySession.isEmpty)

        let text = try await db.run(["events", "--tail", "2"])
        #expect(text.status == 0)
        #expect(text.stdout.split(separator: "\n").count == 3, "a header and 2 events: \(text.stdout)")
        #expect(text.stderr == "\(seqs.count - 2) earlier events not shown (--tail 2)\n")
        let everything = try await db.run(["events", "--tail", "\(seqs.count)"])
        #expect(everything.stderr.isEmpty, "\(everything.stderr)")

        let page = try await db.run(["events", "--limit", "1"])
        #expect(page.stderr == "\(seqs.count - 1) more events not shown (read on with --since \(seqs[0]))\n")
        let json = try await db.run(["events", "--tail", "1", "--json"])
        #expect(json.status == 0 && json.stderr.isEmpty, "--json prints nothing extra: \(json.stderr)")

        for conflicting in [["--tail", "1", "--limit", "1"], ["--tail", "0"], ["--tail", "10001"]] {
            let refused = try await db.run(["events"] + conflicting)
            #expect(refused.status == 64, "\(conflicting)")
            #expect(refused.stderr.contains("Usage: sessionctl events"), "\(refused.stderr)")
        }
    }

    /// `subscribe` and `releases` cut by --limit say how many are still pending after the
    /// last one printed, and how to read on.
    @Test func aSubscriptionPageCutByItsLimitSaysHowManyArePending() async throws {
        let db = CLIDatabase()
        let keys = try await Self.opened(db)
        let events = try await db.array(["events", "--limit", "10000"]).count
        let page = try await db.run(["subscribe", "audit", "--limit", "2"])
        #expect(page.status == 0)
        #expect(page.stdout.split(separator: "\n").count == 2)
        #expect(page.stderr == "\(events - 2) more events not shown (pending past --limit 2; with --ack the next run reads on)\n")
        let acknowledged = try await db.run(["subscribe", "audit", "--limit", "2", "--ack"])
        #expect(acknowledged.stderr == "\(events - 2) more events not shown (pending past --limit 2; run again to read on)\n")
        let rest = try await db.run(["subscribe", "audit", "--limit", "10000"])
        #expect(rest.stdout.split(separator: "\n").count == events - 2 && rest.stderr.isEmpty, "\(rest.stderr)")
        #expect(try await db.run(["subscribe", "audit", "--limit", "1", "--json"]).stderr.isEmpty)

        for name in ["a", "b", "c"] {
            _ = try await db.object(["resource", "add", keys[0], "artifact", name, "--bytes", "10"])
            _ = try await db.object(["resource", "release", keys[0], "artifact", name])
        }
        let releases = try await db.run(["releases", "owner", "--limit", "2"])
        #expect(releases.status == 0)
        #expect(releases.stderr == "1 more releases not shown (pending past --limit 2; with --ack the next run reads on)\n")
        #expect(try await db.run(["releases", "owner", "--limit", "3"]).stderr.isEmpty)
        #expect(try await db.run(["releases", "owner", "--limit", "2", "--json"]).stderr.isEmpty)
    }

    /// `--tail N --follow` prints the last N events, then the new ones as they come.
    @Test(.timeLimit(.minutes(2))) func eventsTailThenFollow() async throws {
        let db = CLIDatabase()
        let keys = try await Self.opened(db)
        let following = try await SpawnedSessionctl(["events", "--tail", "1", "--kind", "session.started", "--follow", "--db", db.path])
        #expect(await following.waitForLines(atLeast: 1, within: .seconds(60)))
        let next = try await db.open(["--user", "dee"])
        #expect(await following.waitForLines(atLeast: 2, within: .seconds(60)))
        #expect(kill(following.pid, SIGINT) == 0)
        _ = await following.exit(within: .seconds(30))
        let lines = await following.completeLines()
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.first?.contains(keys[3]) == true && lines.last?.contains(next) == true, "\(lines)")
    }
}
