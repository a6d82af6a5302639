import Foundation
import SessionStore
import Testing

/// `sessionctl subscribe`, another process on a SQLite file, resumes a durable
/// subscription. The behaviour every backend shares is `NotificationSubscriptionTests`'.
@Suite struct NotificationSubscriptionSQLiteTests {
    /// `sessionctl subscribe NAME --ack --json` prints the pending events once; the next
    /// run prints only newer ones.
    @Test func cliSubscribeWithAckPrintsEachEventOnce() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path("sessions.sqlite")
        func run(_ arguments: [String]) async throws -> CommandResult {
            try await NotificationStreamSQLiteTests.sessionctl(arguments + ["--db", path])
        }
        func seqs(_ result: CommandResult) throws -> [Int64] {
            #expect(result.status == 0, "stderr: \(result.stderr)")
            // Without --follow, one JSON array, empty when nothing is pending.
            let events = try #require(try result.json() as? [[String: Any]], "stdout: \(result.stdout)")
            return try events.map { event in
                try #require((event["seq"] as? NSNumber)?.int64Value, "event: \(event)")
            }
        }
        func openAndClose(_ user: String) async throws {
            let opened = try await run(["open", "--user", user, "--json"])
            #expect(opened.status == 0, "stderr: \(opened.stderr)")
            let object = try #require(try opened.json() as? [String: Any])
            let key = try #require(object["key"] as? String)
            #expect(try await run(["close", key]).status == 0)
        }

        try await openAndClose("ada")
        try await openAndClose("bob")
        let first = try seqs(try await run(["subscribe", "billing", "--ack", "--json"]))
        #expect(first.count == 4)
        #expect(first == first.sorted())

        // Nothing new: an empty array.
        let empty = try await run(["subscribe", "billing", "--ack", "--json"])
        #expect(empty.status == 0)
        #expect(empty.stdout == "[]\n")

        try await openAndClose("cy")
        let second = try seqs(try await run(["subscribe", "billing", "--ack", "--json"]))
        #expect(second.count == 2)
        #expect(second.allSatisfy { $0 > first.max()! })

        // Without --ack the position stays: printed again, and again.
        try await openAndClose("dee")
        let peek = try seqs(try await run(["subscribe", "billing", "--json"]))
        #expect(peek.count == 2)
        #expect(peek.allSatisfy { $0 > second.max()! })
        #expect(try seqs(try await run(["subscribe", "billing", "--json"])) == peek)

        // A different name starts from the beginning.
        let audit = try seqs(try await run(["subscribe", "audit", "--ack", "--json"]))
        #expect(audit == first + second + peek)
    }
}
