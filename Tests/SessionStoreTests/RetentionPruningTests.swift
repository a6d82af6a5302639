import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

/// The sweeper's retention pass also forgets durable subscriptions not acknowledged for
/// `subscription-retention`, and clears the request payloads of executions that ended
/// longer than `tombstone-retention` ago in sessions still live.
@Suite struct RetentionPruningTests {
    @Test func subscriptionsNotAcknowledgedForTheRetentionAreForgotten() async throws {
        let test = TestStore()
        try await test.withStore { $0.subscriptionRetention = .seconds(86_400) } body: { store in
            #expect(SessionStoreConfiguration().subscriptionRetention == .seconds(30 * 86_400))
            _ = try await store.openSession(userId: "ada")
            let stale = try store.subscription(named: "stale")
            let fresh = try store.subscription(named: "fresh")
            try await stale.acknowledge(through: 1)
            try await fresh.acknowledge(through: 1)
            test.clock.advance(by: .seconds(43_200))
            try await fresh.acknowledge(through: 1)

            // Half a day after its last acknowledgement nobody is forgotten...
            #expect(try await store.sweep().prunedSubscriptions == 0)
            // ...a day after it, the stale one is, and the fresh one is not.
            test.clock.advance(by: .seconds(43_200))
            let report = try await store.sweep()
            #expect(report.prunedSubscriptions == 1)
            #expect(try test.count("SELECT count(*) FROM subscriptions WHERE name = 'stale'") == 0)
            #expect(try test.count("SELECT count(*) FROM subscriptions WHERE name = 'fresh'") == 1)
            #expect(try await stale.acknowledgedSeq() == 0)
            #expect(try await fresh.acknowledgedSeq() == 1)
        }
    }

    @Test func requestPayloadsOfLongEndedExecutionsAreCleared() async throws {
        let test = TestStore()
        try await test.withStore { $0.tombstoneRetention = .seconds(3_600) } body: { store in
            let session = try await store.openSession(userId: "ada", timeout: .after(.seconds(86_400)))
            let payload = Data("plan".utf8)
            let old = try await store.createExecution(key: session.key, request: payload)
            let running = try await store.createExecution(key: session.key, request: payload)
            _ = try await store.interrupt(key: session.key, operationId: old.operationId)
            test.clock.advance(by: .seconds(1_800))
            let recent = try await store.createExecution(key: session.key, request: payload)
            _ = try await store.interrupt(key: session.key, operationId: recent.operationId)

            #expect(try await store.sweep().clearedRequests == 0)
            test.clock.advance(by: .seconds(1_800))
            _ = try await store.touch(key: session.key)
            let report = try await store.sweep()
            #expect(report.clearedRequests == 1)
            #expect(try await store.execution(key: session.key, operationId: old.operationId)?.request == nil)
            #expect(try await store.execution(key: session.key, operationId: running.operationId)?.request == payload)
            #expect(try await store.execution(key: session.key, operationId: recent.operationId)?.request == payload)
            // The execution itself stays, with its status and statement.
            #expect(try await store.execution(key: session.key, operationId: old.operationId)?.status == .canceled)
            #expect(try await store.sweep().clearedRequests == 0)
        }
    }
}
