import Foundation
import SessionStore
import Testing

/// Calls say what they did: a close tells whether it ended the session, an open that may
/// return an existing session tells whether it is new and what of the request it did not
/// take.
@Suite struct CallOutcomeTests {
    typealias Kit = SessionTestKit

    /// Four concurrent closes of one key: exactly one ended it, one `session.ended` event,
    /// and every call sees the same ended session.
    @Test func ofConcurrentClosesExactlyOneSaysItClosed() async throws {
        let test = TestStore()
        try await test.withStore { store in
            for round in 0..<5 {
                let session = try await store.openSession(userId: "ada", sessionId: "s\(round)")
                let results = try await withThrowingTaskGroup(of: ClosedSession.self) { group in
                    for caller in 0..<4 {
                        group.addTask { try await store.closeSession(key: session.key, reason: "caller \(caller)") }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(results.count == 4)
                #expect(results.filter(\.closedByThisCall).count == 1, "round \(round)")
                #expect(results.allSatisfy { $0.session.state == .closed })
                #expect(Set(results.map(\.session.endReason)).count == 1)
                #expect(try Kit.eventCount(test, kind: EventKind.sessionEnded, key: session.key) == 1)
            }
        }
    }

    /// A session that expired answers SESSION_EXPIRED to a close, as to every other
    /// operation (ZooKeeper's SESSIONEXPIRED: the client must start a new session), and
    /// the close writes nothing.
    @Test func closingAnExpiredSessionAnswersSessionExpiredAndWritesNothing() async throws {
        let test = TestStore()
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada", timeout: .after(.seconds(1)))
            test.clock.advance(by: .seconds(5))
            #expect(try await store.sweep().expiredSessions.keys == [session.key])
            await expectError(.sessionExpired) { try await store.closeSession(key: session.key) }
            #expect(try await store.session(key: session.key)?.state == .expired)
            #expect(try Kit.eventCount(test, kind: EventKind.sessionEnded, key: session.key) == 1)
        }
    }

    /// A reconnect tells a new session from an existing one, and names the request's
    /// fields the existing session did not take.
    @Test func reconnectTellsCreatedFromExistingAndNamesIgnoredFields() async throws {
        let test = TestStore()
        try await test.withStore { store in
            var request = OpenSessionRequest(userId: "ada", sessionId: "nb-1")
            request.reconnect = true
            request.dataSource = "telemetry"
            request.details = ["device": "sensor-7"]
            let first = try await store.openSessionReportingOutcome(request)
            #expect(first.created)
            #expect(first.ignoredFields.isEmpty)
            #expect(first.session.dataSource == "telemetry")

            // The same request again: the live session, nothing ignored.
            let same = try await store.openSessionReportingOutcome(request)
            #expect(!same.created)
            #expect(same.session.key == first.session.key)
            #expect(same.ignoredFields.isEmpty)

            // Another data source and details: the session keeps its own, and says so.
            var other = request
            other.dataSource = "billing"
            other.details = ["device": "sensor-8"]
            other.timeout = .after(.seconds(42))
            let reconnected = try await store.openSessionReportingOutcome(other)
            #expect(!reconnected.created)
            #expect(reconnected.session.key == first.session.key)
            #expect(reconnected.session.dataSource == "telemetry")
            #expect(reconnected.session.details == ["device": "sensor-7"])
            #expect(reconnected.ignoredFields == ["dataSource", "details", "timeout"])
            #expect(try await store.openSession(other).key == first.session.key)

            // Once closed, a reconnect opens a new session, taking the whole request.
            try await store.closeSession(key: first.session.key)
            let reopened = try await store.openSessionReportingOutcome(other)
            #expect(reopened.created)
            #expect(reopened.session.key != first.session.key)
            #expect(reopened.session.dataSource == "billing")
            #expect(reopened.ignoredFields.isEmpty)
        }
    }

    /// getOrCreate tells whether it opened the session; it ignores nothing, as it names
    /// only the user and the session id.
    @Test func getOrCreateTellsCreatedFromExisting() async throws {
        let test = TestStore()
        try await test.withStore { store in
            let created = try await store.openIsolatedSessionReportingOutcome(userId: "ada", sessionId: "nb")
            #expect(created.created)
            let found = try await store.openIsolatedSessionReportingOutcome(userId: "ada", sessionId: "nb")
            #expect(!found.created)
            #expect(found.session.key == created.session.key)
            #expect(found.ignoredFields.isEmpty)

            // One opened elsewhere with another data source is still found as it is.
            _ = try await store.openSession(userId: "ada", sessionId: "tele", dataSource: "telemetry")
            let existing = try await store.openIsolatedSessionReportingOutcome(userId: "ada", sessionId: "tele")
            #expect(!existing.created)
            #expect(existing.ignoredFields.isEmpty)
            #expect(existing.session.dataSource == "telemetry")
        }
    }

    /// The JSON of both outcomes is the session's object with the outcome's fields added.
    @Test func outcomesEncodeAsTheSessionWithTheirFields() async throws {
        let test = TestStore()
        try await test.withStore { store in
            var request = OpenSessionRequest(userId: "ada", sessionId: "nb-1")
            request.reconnect = true
            let opened = try await store.openSessionReportingOutcome(request)
            let closing = try await store.closeSession(key: opened.session.key)
            let encoder = JSONEncoder()
            let openedObject = try #require(
                try JSONSerialization.jsonObject(with: encoder.encode(opened)) as? [String: Any])
            #expect(openedObject["key"] as? String == opened.session.key)
            #expect(openedObject["created"] as? Bool == true)
            #expect(openedObject["ignoredFields"] as? [String] == [])
            let closedObject = try #require(
                try JSONSerialization.jsonObject(with: encoder.encode(closing)) as? [String: Any])
            #expect(closedObject["state"] as? String == "closed")
            #expect(closedObject["closedByThisCall"] as? Bool == true)
        }
    }
}
