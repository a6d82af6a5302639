import Foundation
import SessionStore
import Testing

/// Streaming queries: what an operation passes on to the queries it starts, and removing
/// one, on every backend.
@Suite struct StreamingQueryTests {
    @Test(arguments: Backend.all)
    func aQueryStartedByAnOperationCarriesItsTagsAndTheirInterruptStopsIt(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada")
            let key = session.key
            let execution = try await store.createExecution(key: key, tags: ["etl", "nightly"])
            try await store.setExecutionStatus(key: key, operationId: execution.operationId, to: .started)
            try await store.setExecutionStatus(key: key, operationId: execution.operationId, to: .finished)
            let started = try await store.registerQuery(
                key: key, queryId: "q1", runId: "r1", operationId: execution.operationId, tags: ["own"])
            #expect(started.tags == ["etl", "nightly", "own"])
            #expect(try await store.query(key: key, queryId: "q1")?.tags == ["etl", "nightly", "own"])
            try await store.registerQuery(key: key, queryId: "q2", runId: "r2", tags: ["adhoc"])

            // The execution has finished; an interrupt by its tag still stops the query it
            // started, and names it.
            #expect(try await store.interrupt(key: key, tag: "nightly") == Interruption(operationIds: [], queryIds: ["q1"]))
            let stopped = try #require(try await store.query(key: key, queryId: "q1"))
            #expect(stopped.state == .stopped)
            #expect(stopped.stopReason?.contains("nightly") == true)
            #expect(try await store.query(key: key, queryId: "q2")?.state == .active)
            // Stopped already: not named again.
            #expect(try await store.interrupt(key: key, tag: "etl") == Interruption(operationIds: []))

            // All: the running executions and every query still active.
            let running = try await store.createExecution(key: key)
            try await store.registerQuery(key: key, queryId: "q3", runId: "r3", operationId: running.operationId)
            #expect(
                try await store.interruptAll(key: key)
                    == Interruption(operationIds: [running.operationId], queryIds: ["q2", "q3"]))
            // By operation id: no query is stopped.
            try await store.registerQuery(key: key, queryId: "q4", runId: "r4")
            let another = try await store.createExecution(key: key)
            #expect(
                try await store.interrupt(key: key, operationId: another.operationId)
                    == Interruption(operationIds: [another.operationId]))
        }
    }

    @Test(arguments: Backend.all)
    func removeQueryReturnsTheQueryAsRemoved(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada")
            try await store.registerQuery(key: session.key, queryId: "q1", runId: "r1", name: "first")
            let removed = try await store.removeQuery(key: session.key, queryId: "q1")
            #expect(removed.queryId == "q1")
            #expect(removed.name == "first")
            #expect(removed.state == .stopped)
            #expect(removed.stopReason == "removed")
            #expect(removed.stoppedAt != nil)
            #expect(try await store.query(key: session.key, queryId: "q1") == nil)
            await expectError(SessionStoreError.Code.queryNotFound) {
                try await store.removeQuery(key: session.key, queryId: "q1")
            }
        }
    }
}
