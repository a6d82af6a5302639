import Foundation
import SessionStore
import Testing

/// The Stream API's start/stop notifications: filtered by data source, no history,
/// delivered after commit; and the raw `events(from:)` stream in sequence order. (Those
/// of changes made by another process on the file are `NotificationStreamSQLiteTests`'.)
@Suite struct NotificationStreamTests {
    typealias Kit = NotificationKit

    @Test(arguments: Backend.all)
    func startAndStopNotificationsAreFilteredByDataSourceAndHaveNoHistory(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            // Before subscribing: one start in ds1, and one stop in ds1.
            let before = try await store.openSession(userId: "ada", dataSource: "ds1")
            let closedBefore = try await store.openSession(userId: "ada", dataSource: "ds1")
            try await store.closeSession(key: closedBefore.key)

            let starts = try await store.sessionStarts(dataSource: "ds1", pollInterval: .milliseconds(10))
            let stops = try await store.sessionStops(dataSource: "ds1", pollInterval: .milliseconds(10))
            let allStarts = try await store.sessionStarts(pollInterval: .milliseconds(10))
            let startsTask = Kit.collect(2, of: starts)
            let stopsTask = Kit.collect(2, of: stops)
            let allStartsTask = Kit.collect(3, of: allStarts)

            // After subscribing: ds2 first, then two in ds1.
            let other = try await store.openSession(userId: "bob", dataSource: "ds2")
            let first = try await store.openSession(userId: "ada", dataSource: "ds1")
            let second = try await store.openSession(userId: "cy", dataSource: "ds1")
            try await store.closeSession(key: other.key)
            try await store.closeSession(key: before.key)
            try await store.closeSession(key: first.key)

            let started = try #require(try await startsTask.value, "ds1 start notifications did not arrive")
            #expect(started.map(\.sessionKey) == [first.key, second.key])
            #expect(started.allSatisfy { $0.dataSource == "ds1" })
            #expect(started[0].seq < started[1].seq)

            let stopped = try #require(try await stopsTask.value, "ds1 stop notifications did not arrive")
            // The session opened before subscribing stops after it: that stop is news.
            #expect(stopped.map(\.sessionKey) == [before.key, first.key])
            #expect(stopped.allSatisfy { $0.dataSource == "ds1" })

            let everyStart = try #require(try await allStartsTask.value, "start notifications did not arrive")
            #expect(everyStart.map(\.sessionKey) == [other.key, first.key, second.key])
            #expect(everyStart.map(\.dataSource) == ["ds2", "ds1", "ds1"])

            // Each notification is the committed event it names.
            for notification in started + stopped {
                let events = try await store.listEvents(after: notification.seq - 1, limit: 1)
                #expect(events.first?.seq == notification.seq)
                #expect(events.first?.sessionKey == notification.sessionKey)
            }
        }
    }

    @Test(arguments: Backend.all)
    func expiryIsAStopNotification(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.tick = .milliseconds(1_000) } body: { store in
            let stops = try await store.sessionStops(dataSource: "ds1", pollInterval: .milliseconds(10))
            let task = Kit.collect(1, of: stops)
            let session = try await store.openSession(userId: "ada", dataSource: "ds1", timeout: .after(.milliseconds(5_000)))
            test.clock.advance(by: .milliseconds(5_000))
            #expect(try await store.sweep().expiredSessions.keys == [session.key])
            let stopped = try #require(try await task.value, "the expiry was not notified")
            #expect(stopped.map(\.sessionKey) == [session.key])
            let event = try await store.listEvents(after: stopped[0].seq - 1, limit: 1).first
            #expect(event?.kind == EventKind.sessionEnded)
            #expect(event?.payload["state"] == "expired")
        }
    }

    /// `events(from:)` yields the events after `from` in sequence order, including those
    /// committed after it started.
    @Test(arguments: Backend.all)
    func eventsFromYieldsInSequenceOrderIncludingLaterCommits(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let early = try await store.openSession(userId: "ada")
            try await store.updateDetails(key: early.key, ["k": "v"])
            let from = try await store.latestEventSeq()
            let beforeStart = try await store.openSession(userId: "bob")
            try await store.setConfig(key: beforeStart.key, ["spark.x": "1"])
            let committedBefore = try await store.listEvents(after: from, limit: 100)
            #expect(committedBefore.count == 2)

            let task = Kit.collect(6, of: store.events(from: from, pollInterval: .milliseconds(10)))
            let later = try await store.openSession(userId: "cy")
            try await store.updateIdentifier(key: later.key, "id-1")
            try await store.closeSession(key: beforeStart.key)
            try await store.closeSession(key: later.key)

            let events = try #require(try await task.value, "events(from:) did not deliver six events")
            let seqs = events.map(\.seq)
            #expect(seqs == seqs.sorted())
            #expect(Set(seqs).count == seqs.count)
            #expect(seqs.allSatisfy { $0 > from })
            let logged = try await store.listEvents(after: from, limit: 100)
            #expect(seqs == logged.prefix(6).map(\.seq))
            #expect(
                events.map(\.kind) == [
                    EventKind.sessionStarted, EventKind.configChanged, EventKind.sessionStarted, EventKind.identifierChanged,
                    EventKind.sessionEnded, EventKind.sessionEnded,
                ])
            #expect(events[2].sessionKey == later.key)
            #expect(events.last?.sessionKey == later.key)
        }
    }
}
