import Foundation
import SessionStore
import Testing

/// Start and stop notifications resume after a sequence number (server-sent events'
/// `Last-Event-ID`), and a stop says how and why the session ended.
@Suite struct NotificationResumeTests {
    typealias Kit = NotificationKit

    @Test(arguments: Backend.all)
    func stopsResumeAfterASequenceNumberWithEndStateAndReason(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.tick = .milliseconds(1_000) } body: { store in
            let closed = try await store.openSession(userId: "ada", dataSource: "ds1")
            let expiring = try await store.openSession(userId: "bob", dataSource: "ds1", timeout: .after(.milliseconds(5_000)))
            let elsewhere = try await store.openSession(userId: "cy", dataSource: "ds2")
            _ = try await store.closeSession(key: closed.key, reason: "done")
            let lastSeen = try await store.latestEventSeq()
            _ = try await store.closeSession(key: elsewhere.key)
            test.clock.advance(by: .milliseconds(5_000))
            #expect(try await store.sweep().expiredSessions.keys == [expiring.key])

            // Resumed after the last stop a client saw: the later ds1 stop from the log,
            // then a live one.
            let stops = try await store.sessionStops(dataSource: "ds1", after: lastSeen, pollInterval: .milliseconds(10))
            let task = Kit.collect(2, of: stops)
            let live = try await store.openSession(userId: "dee", dataSource: "ds1")
            _ = try await store.closeSession(key: live.key, reason: "bye")
            let stopped = try #require(try await task.value, "the resumed stops did not arrive")
            #expect(stopped.map(\.sessionKey) == [expiring.key, live.key])
            #expect(stopped.map(\.endState) == [.expired, .closed])
            #expect(stopped.map(\.reason) == ["expired", "bye"])
            #expect(stopped.allSatisfy { $0.seq > lastSeen })

            // From the start of the log: every ds1 start, none with an end state.
            let starts = try #require(
                try await Kit.first(3, of: try await store.sessionStarts(dataSource: "ds1", after: 0)), "the starts did not arrive")
            #expect(starts.map(\.sessionKey) == [closed.key, expiring.key, live.key])
            #expect(starts.allSatisfy { $0.endState == nil && $0.reason == nil })

            // Resuming after the first stop gives the closed one's successors only.
            let firstStop = try #require(
                try await Kit.first(1, of: try await store.sessionStops(after: 0)), "the first stop did not arrive")
            #expect(firstStop.map(\.sessionKey) == [closed.key])
            #expect(firstStop.first?.endState == .closed)
            #expect(firstStop.first?.reason == "done")
            let afterFirst = try #require(
                try await Kit.first(3, of: try await store.sessionStops(after: firstStop[0].seq)), "the later stops did not arrive")
            #expect(afterFirst.map(\.sessionKey) == [elsewhere.key, expiring.key, live.key])
            #expect(afterFirst.map(\.dataSource) == ["ds2", "ds1", "ds1"])
        }
    }

    /// Without `after`, nothing from before the call is delivered.
    @Test(arguments: Backend.all)
    func withoutASequenceNumberThereIsNoHistory(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let before = try await store.openSession(userId: "ada")
            _ = try await store.closeSession(key: before.key)
            let stops = try await store.sessionStops(pollInterval: .milliseconds(10))
            let task = Kit.collect(1, of: stops)
            let after = try await store.openSession(userId: "bob")
            _ = try await store.closeSession(key: after.key, reason: "later")
            let stopped = try #require(try await task.value, "the stop did not arrive")
            #expect(stopped.map(\.sessionKey) == [after.key])
            #expect(stopped.first?.reason == "later")
        }
    }
}
