import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

/// Durable subscriptions: a named consumer resumes after its last acknowledged sequence
/// number, also after a restart, and never moves back.
@Suite struct NotificationSubscriptionTests {
    typealias Kit = NotificationKit

    static func makeEvents(_ store: SessionStore, user: String, count: Int) async throws {
        for index in 0..<count {
            let session = try await store.openSession(userId: user, sessionId: "s-\(index)")
            try await store.closeSession(key: session.key)
        }
    }

    static func allSeqs(_ store: SessionStore) async throws -> [Int64] {
        try await store.listEvents(after: 0, limit: 10_000).map(\.seq)
    }

    @Test func pendingStartsAfterTheAcknowledgedSeqAndSurvivesARestart() async throws {
        let test = TestStore()
        var handled: [Int64] = []
        let (all, acknowledged) = try await test.withStore { store in
            try await Self.makeEvents(store, user: "ada", count: 4)  // 8 events
            let subscription = try store.subscription(named: "billing")
            #expect(try await subscription.acknowledgedSeq() == 0)
            let all = try await Self.allSeqs(store)
            #expect(all.count == 8)

            // Nothing acknowledged: everything is pending.
            let firstRead = try await subscription.listPendingEvents()
            #expect(firstRead.map(\.seq) == all)

            // Handle and acknowledge the first five.
            for event in firstRead.prefix(5) {
                handled.append(event.seq)
                try await subscription.acknowledge(through: event.seq)
            }
            let acknowledged = handled.last!
            #expect(try await subscription.acknowledgedSeq() == acknowledged)
            #expect(try await subscription.listPendingEvents().map(\.seq) == Array(all.drop { $0 <= acknowledged }))

            // Acknowledging a lower seq never moves it back.
            try await subscription.acknowledge(through: all[1])
            try await subscription.acknowledge(through: 0)
            #expect(try await subscription.acknowledgedSeq() == acknowledged)
            #expect(try await subscription.listPendingEvents().first?.seq == all[5])

            // Another subscription is independent.
            let other = try store.subscription(named: "audit")
            #expect(try await other.acknowledgedSeq() == 0)
            #expect(try await other.listPendingEvents().count == all.count)

            // More events, then a restart.
            try await Self.makeEvents(store, user: "bob", count: 2)
            return (all, acknowledged)
        }
        let everything = try await test.withStore { store in
            let subscription = try store.subscription(named: "billing")
            #expect(try await subscription.acknowledgedSeq() == acknowledged)
            let afterRestart = try await Self.allSeqs(store)
            #expect(afterRestart.count == 12)

            // Resume through the live stream: the unacknowledged ones, then a new one.
            let expectedCount = afterRestart.filter { $0 > acknowledged }.count + 2
            let task = Kit.collect(expectedCount, of: try await subscription.events(pollInterval: .milliseconds(10)))
            try await Self.makeEvents(store, user: "cy", count: 1)
            let resumed = try #require(try await task.value, "the subscription did not resume")
            for event in resumed {
                handled.append(event.seq)
                try await subscription.acknowledge(through: event.seq)
            }
            let everything = try await Self.allSeqs(store)
            // No acknowledged event repeats, none is missed, in order.
            #expect(handled == everything)
            #expect(Set(handled).count == handled.count)
            #expect(resumed.first?.seq == all[5])
            #expect(try await subscription.acknowledgedSeq() == everything.last)
            #expect(try await subscription.listPendingEvents().isEmpty)
            return everything
        }

        // And after another restart, nothing is pending.
        try await test.withStore { (reopened) async throws in
            #expect(try await reopened.subscription(named: "billing").listPendingEvents().isEmpty)
            #expect(try await reopened.subscription(named: "billing").acknowledgedSeq() == everything.last)
        }
    }

    /// Delivered but not acknowledged events are delivered again after a restart.
    @Test func unacknowledgedEventsAreDeliveredAgainAfterARestart() async throws {
        let test = TestStore()
        let seen = try await test.withStore { store in
            try await Self.makeEvents(store, user: "ada", count: 2)
            let subscription = try store.subscription(named: "billing")
            let seen = try await subscription.listPendingEvents()
            #expect(seen.count == 4)
            try await subscription.acknowledge(through: seen[1].seq)
            return seen
        }

        try await test.withStore { reopened in
            let again = try await reopened.subscription(named: "billing").listPendingEvents()
            #expect(again.map(\.seq) == seen.dropFirst(2).map(\.seq))
        }
    }

    @Test func subscriptionNamesAreValidated() async throws {
        let test = TestStore()
        try await test.withStore { store in
            #expect(throws: SessionStoreError.self) { try store.subscription(named: "") }
        }
    }

    /// `sessionctl subscribe NAME --ack --json` prints the pending events once; the next
    /// run prints only newer ones.
    @Test func cliSubscribeWithAckPrintsEachEventOnce() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path("sessions.sqlite")
        func run(_ arguments: [String]) async throws -> CommandResult {
            try await NotificationStreamTests.sessionctl(arguments + ["--db", path])
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
