import Foundation
import SessionStore
import Testing

/// Streaming queries through the `sessionctl query get|remove` commands, on a SQLite file.
@Suite struct StreamingQuerySQLiteTests {
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
