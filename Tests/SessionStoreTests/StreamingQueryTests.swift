import Foundation
import SessionStore
import Testing

/// Streaming queries: what an operation passes on to the queries it starts, and the
/// `sessionctl query get|remove` commands.
@Suite struct StreamingQueryTests {
    @Test func aQueryStartedByAnOperationCarriesItsTagsAndTheirInterruptStopsIt() async throws {
        let test = TestStore()
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

    @Test func removeQueryReturnsTheQueryAsRemoved() async throws {
        let test = TestStore()
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

    @Test func queryGetAndRemoveFromTheCommandLine() async throws {
        let cli = CLIDatabase()
        let key = try await cli.open(["--user", "ada"])
        let operation = try #require(try await cli.object(["exec", "create", key, "--tag", "etl"])["operationId"] as? String)
        _ = try await cli.object(["query", "register", key, "q1", "--name", "first", "--operation-id", operation])
        _ = try await cli.object(["query", "register", key, "q2"])
        _ = try await cli.object(["query", "stop", key, "q2", "--reason", "enough"])

        // get: active or stopped, JSON and text
        let q1 = try await cli.object(["query", "get", key, "q1"])
        #expect(q1["queryId"] as? String == "q1")
        #expect(q1["name"] as? String == "first")
        #expect(q1["state"] as? String == "active")
        #expect(q1["operationId"] as? String == operation)
        #expect(q1["tags"] as? [String] == ["etl"])
        let q2 = try await cli.object(["query", "get", key, "q2"])
        #expect(q2["state"] as? String == "stopped")
        #expect(q2["stopReason"] as? String == "enough")
        let text = try await cli.run(["query", "get", key, "q1"])
        #expect(text.status == 0)
        #expect(text.stdout.contains("QUERY"))
        #expect(text.stdout.contains("q1"))
        #expect(text.stdout.contains("first"))
        #expect(try await cli.error(["query", "get", key, "nope"]).code == "INVALID_HANDLE.STREAMING_QUERY_NOT_FOUND")

        // interrupt by tag names the query the operation started
        let interrupted = try await cli.object(["interrupt", key, "--tag", "etl"])
        #expect(interrupted["interrupted"] as? [String] == [operation])
        #expect(interrupted["stoppedQueries"] as? [String] == ["q1"])
        let again = try await cli.run(["interrupt", key, "--all"])
        #expect(again.status == 0)
        #expect(again.stdout.isEmpty)
        #expect(try await cli.object(["query", "get", key, "q1"])["state"] as? String == "stopped")

        // remove: prints the query as removed (stopped by the removal if it was active)
        _ = try await cli.object(["query", "register", key, "q3"])
        let removed = try await cli.object(["query", "remove", key, "q3"])
        #expect(removed["queryId"] as? String == "q3")
        #expect(removed["state"] as? String == "stopped")
        #expect(removed["stopReason"] as? String == "removed")
        #expect(try await cli.object(["query", "remove", key, "q1"])["stopReason"] as? String == "interrupted by tag etl")
        #expect(try await cli.array(["query", "list", key]).compactMap { $0["queryId"] as? String } == ["q2"])
        #expect(try await cli.error(["query", "get", key, "q1"]).code == "INVALID_HANDLE.STREAMING_QUERY_NOT_FOUND")
        #expect(try await cli.error(["query", "remove", key, "q1"]).code == "INVALID_HANDLE.STREAMING_QUERY_NOT_FOUND")
        let textRemove = try await cli.run(["query", "remove", key, "q2"])
        #expect(textRemove.status == 0)
        #expect(textRemove.stdout.contains("q2"))
        #expect(try await cli.array(["query", "list", key]).isEmpty)
    }
}
