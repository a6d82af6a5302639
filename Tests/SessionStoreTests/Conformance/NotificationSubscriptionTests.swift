import Foundation
import SessionStore
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

    @Test(arguments: Backend.all)
    func pendingStartsAfterTheAcknowledgedSeqAndSurvivesARestart(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
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
            let acknowledged = try #require(handled.last)
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
    @Test(arguments: Backend.all)
    func unacknowledgedEventsAreDeliveredAgainAfterARestart(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
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

    @Test(arguments: Backend.all)
    func subscriptionNamesAreValidated(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            #expect(throws: SessionStoreError.self) { try store.subscription(named: "") }
        }
    }
}
