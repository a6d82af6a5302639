import Foundation
import SessionStore
import Testing

/// A write returns the value it wrote, built from the write rather than read back: each
/// returned value equals what a fresh read of the store returns right after.
@Suite struct ReturnedValueTests {
    @Test(arguments: Backend.all)
    func everyWriteReturnsWhatAFreshReadReturns(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.tick = .seconds(1) } body: { store in
            var request = OpenSessionRequest(userId: "ada", sessionId: "nb-1")
            request.details = ["device": "d-1"]
            request.config = ["spark.sql.ansi": "true", "spark.app": "etl"]
            let child = try await store.openSession(userId: "ada", sessionId: "nb-2")
            request.associates = [child.key]
            let opened = try await store.openSession(request)
            #expect(try await store.session(key: opened.key) == opened)

            // Returning the live session counts as an access that moves expiry.
            test.clock.advance(by: .milliseconds(5_000))
            let existing = try await store.openIsolatedSession(userId: "ada", sessionId: "nb-1")
            #expect(existing.expireAt != opened.expireAt)
            #expect(try await store.session(key: opened.key) == existing)
            test.clock.advance(by: .milliseconds(5_000))
            let isolated = try await store.isolatedSession(userId: "ada", sessionId: "nb-1")
            #expect(isolated?.lastAccessAt.milliseconds == test.clock.now())
            #expect(try await store.session(key: opened.key) == isolated)

            let execution = try await store.createExecution(
                key: opened.key, tags: ["etl", "b", "etl"], statement: "select 1", reattachable: true,
                timeout: .seconds(60))
            #expect(try await store.execution(key: opened.key, operationId: execution.operationId) == execution)
            for status in [ExecutionStatus.started, .failed] {
                test.clock.advance(by: .milliseconds(1))
                let moved = try await store.setExecutionStatus(
                    key: opened.key, operationId: execution.operationId, to: status, error: "boom")
                #expect(try await store.execution(key: opened.key, operationId: execution.operationId) == moved)
            }
            test.clock.advance(by: .milliseconds(1))
            let detached = try await store.detachExecution(key: opened.key, operationId: execution.operationId)
            #expect(try await store.execution(key: opened.key, operationId: execution.operationId) == detached)
            test.clock.advance(by: .milliseconds(1))
            let attached = try await store.attachExecution(key: opened.key, operationId: execution.operationId)
            #expect(try await store.execution(key: opened.key, operationId: execution.operationId) == attached)
            let closed = try await store.setExecutionStatus(key: opened.key, operationId: execution.operationId, to: .closed)
            #expect(closed.closedAt != nil)
            #expect(try await store.execution(key: opened.key, operationId: execution.operationId) == closed)

            _ = try await store.registerQuery(key: opened.key, queryId: "q-1", runId: "r-1")
            test.clock.advance(by: .milliseconds(1))
            let stopped = try await store.stopQuery(key: opened.key, queryId: "q-1", reason: "done")
            #expect(stopped.state == .stopped)
            #expect(try await store.query(key: opened.key, queryId: "q-1") == stopped)
            #expect(try await store.stopQuery(key: opened.key, queryId: "q-1", reason: "again") == stopped)

            test.clock.advance(by: .milliseconds(1))
            let ended = try await store.closeSession(key: opened.key, reason: "bye").session
            #expect(ended.state == .closed)
            #expect(ended.expireAt == nil)
            #expect(try await store.session(key: opened.key) == ended)
            #expect(try await store.closeSession(key: opened.key) == ClosedSession(session: ended, closedByThisCall: false))
        }
    }
}
