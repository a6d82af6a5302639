import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

/// `sessionctl exec|interrupt|query|resource` end to end, through the built executable.
@Suite struct ExecutionCLITests {
    typealias Kit = ExecutionTestKit

    static func isTime(_ value: Any?) -> Bool {
        guard let text = value as? String else { return false }
        return text.wholeMatch(of: #/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/#) != nil
    }

    static func isNull(_ value: Any?) -> Bool {
        value is NSNull
    }

    /// The fields every execution object carries.
    static let executionFields: Set<String> = [
        "operationId", "sessionKey", "userId", "status", "tags", "statement", "reattachable", "attached",
        "createdAt", "startedAt", "lastAttachedAt", "endedAt", "error",
    ]

    @Test func execCreateSetAttachDetachAndList() async throws {
        let cli = CLIDatabase()
        let key = try await cli.open(["--user", "ada"])
        let id = Kit.operationId()

        // create with every option
        let created = try await cli.object([
            "exec", "create", key, "--operation-id", id.uppercased(), "--tag", "nightly", "--tag", "etl",
            "--statement", "SELECT 1", "--reattachable", "--timeout", "30s",
        ])
        #expect(Self.executionFields.isSubset(of: Set(created.keys)), "\(created.keys.sorted())")
        #expect(created["operationId"] as? String == id)
        #expect(created["sessionKey"] as? String == key)
        #expect(created["userId"] as? String == "ada")
        #expect(created["status"] as? String == "pending")
        #expect(created["tags"] as? [String] == ["etl", "nightly"])
        #expect(created["statement"] as? String == "SELECT 1")
        #expect(created["reattachable"] as? Bool == true)
        #expect(created["attached"] as? Bool == true)
        #expect(created["timeoutMs"] as? Int == 30_000)
        #expect(Self.isTime(created["createdAt"]))
        #expect(Self.isTime(created["lastAttachedAt"]))
        #expect(Self.isNull(created["startedAt"]))
        #expect(Self.isNull(created["endedAt"]))
        #expect(Self.isNull(created["error"]))

        // create with none: generated id, empty tags, nulls
        let plain = try await cli.object(["exec", "create", key])
        let plainId = try #require(plain["operationId"] as? String)
        #expect(plainId.wholeMatch(of: #/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/#) != nil)
        #expect(plain["tags"] as? [String] == [])
        #expect(Self.isNull(plain["statement"]))
        #expect(plain["reattachable"] as? Bool == false)
        #expect(Self.isNull(plain["timeoutMs"]))

        // the whole happy path
        let started = try await cli.object(["exec", "set", key, id, "started"])
        #expect(started["status"] as? String == "started")
        #expect(Self.isTime(started["startedAt"]))
        #expect(try await cli.object(["exec", "set", key, id, "analyzed"])["status"] as? String == "analyzed")
        #expect(try await cli.object(["exec", "set", key, id, "ready"])["status"] as? String == "readyForExecution")
        let finished = try await cli.object(["exec", "set", key, id, "finished"])
        #expect(finished["status"] as? String == "finished")
        #expect(Self.isTime(finished["endedAt"]))
        #expect(Self.isNull(finished["error"]))
        #expect(try await cli.object(["exec", "set", key, id, "closed"])["status"] as? String == "closed")

        // an invalid transition
        let invalid = try await cli.error(["exec", "set", key, id, "started"])
        #expect(invalid.code == "INVALID_TRANSITION")
        #expect(invalid.message.contains("closed") && invalid.message.contains("started"), "\(invalid.message)")
        // an unknown status is a usage error
        let bogus = try await cli.run(["exec", "set", key, id, "bogus", "--json"])
        #expect(bogus.status != 0)
        #expect(bogus.stdout.isEmpty)

        // failed with its message, canceled
        let failed = try await cli.object(["exec", "set", key, plainId, "failed", "--error", "division by zero"])
        #expect(failed["status"] as? String == "failed")
        #expect(failed["error"] as? String == "division by zero")
        #expect(Self.isTime(failed["endedAt"]))
        let third = try #require(try await cli.object(["exec", "create", key])["operationId"] as? String)
        #expect(try await cli.object(["exec", "set", key, third, "canceled"])["status"] as? String == "canceled")
        #expect(try await cli.error(["exec", "set", key, third, "finished"]).code == "INVALID_TRANSITION")

        // attach / detach
        let reattachable = try #require(try await cli.object(["exec", "create", key, "--reattachable"])["operationId"] as? String)
        let detached = try await cli.object(["exec", "detach", key, reattachable])
        #expect(detached["attached"] as? Bool == false)
        let attached = try await cli.object(["exec", "attach", key, reattachable])
        #expect(attached["attached"] as? Bool == true)
        #expect(Self.isTime(attached["lastAttachedAt"]))
        let fixed = try #require(try await cli.object(["exec", "create", key])["operationId"] as? String)
        _ = try await cli.object(["exec", "detach", key, fixed])
        #expect(try await cli.error(["exec", "attach", key, fixed]).code == "INVALID_HANDLE.OPERATION_NOT_REATTACHABLE")
        #expect(try await cli.error(["exec", "attach", key, id]).code == "INVALID_TRANSITION")

        // errors of create
        #expect(try await cli.error(["exec", "create", key, "--operation-id", id]).code == "INVALID_HANDLE.OPERATION_ALREADY_EXISTS")
        #expect(try await cli.error(["exec", "create", key, "--operation-id", "abc"]).code == "INVALID_HANDLE.FORMAT")
        let badTimeout = try await cli.run(["exec", "create", key, "--timeout", "0s", "--json"])
        #expect(badTimeout.status != 0)

        // list: a session's executions oldest first, its running ones, the running ones everywhere
        let other = try await cli.open(["--user", "bob"])
        let elsewhere = try #require(try await cli.object(["exec", "create", other])["operationId"] as? String)
        let all = try await cli.executions(["exec", "list", key])
        #expect(all.compactMap { $0["operationId"] as? String } == [id, plainId, third, reattachable, fixed])
        #expect(all.compactMap { $0["status"] as? String } == ["closed", "failed", "canceled", "pending", "pending"])
        for execution in all { #expect(Self.executionFields.isSubset(of: Set(execution.keys))) }
        #expect(try await cli.ids(["exec", "list", key, "--active"]) == [reattachable, fixed])
        #expect(try await cli.ids(["exec", "list", "--active"]) == [reattachable, fixed, elsewhere])
        #expect(try await cli.ids(["exec", "list", "--abandoned"]) == [])
        #expect(try await cli.run(["exec", "list", "--json"]).status != 0)
        #expect(try await cli.run(["exec", "list", key, "--active", "--abandoned", "--json"]).status != 0)

        // the session closed: its executions closed, no more creates
        _ = try await cli.object(["close", key])
        let released = try await cli.executions(["exec", "list", key])
        #expect(released.count == 5)
        #expect(released.allSatisfy { $0["status"] as? String == "closed" && $0["closedAt"] is String })
        #expect(try await cli.ids(["exec", "list", "--active"]) == [elsewhere])
        #expect(try await cli.error(["exec", "create", key]).code == "INVALID_HANDLE.SESSION_CLOSED")
    }

    @Test func execRequestAndGet() async throws {
        let cli = CLIDatabase()
        let key = try await cli.open(["--user", "ada"])
        let request = "plan: SELECT * FROM sales"
        let created = try await cli.object(["exec", "create", key, "--request", request, "--statement", "SELECT 1"])
        let id = try #require(created["operationId"] as? String)
        #expect(created["request"] as? String == Data(request.utf8).base64EncodedString())
        let plain = try await cli.object(["exec", "create", key])
        #expect(Self.isNull(plain["request"]))

        // exec get: JSON with the request as Base64, text with it as it was given
        let got = try await cli.object(["exec", "get", key, id.uppercased()])
        #expect(got["operationId"] as? String == id)
        #expect(got["request"] as? String == Data(request.utf8).base64EncodedString())
        #expect(Self.executionFields.isSubset(of: Set(got.keys)), "\(got.keys.sorted())")
        let text = try await cli.run(["exec", "get", key, id])
        #expect(text.status == 0)
        #expect(text.stdout.contains("request:        \(request)\n"), "\(text.stdout)")
        #expect(text.stdout.contains("statement:      SELECT 1\n"), "\(text.stdout)")
        #expect(try await cli.executions(["exec", "list", key]).map { $0["request"] as? String } == [got["request"] as? String, nil])
        #expect(try await cli.error(["exec", "get", key, Kit.operationId()]).code == "INVALID_HANDLE.OPERATION_NOT_FOUND")

        // bounded by the payload limit
        let limited = try await cli.error(["exec", "create", key, "--request", "12345", "--set", "max-payload-bytes=4"])
        #expect(limited.code == "INVALID_ARGUMENT.REQUEST")
        #expect(try await cli.object(["exec", "create", key, "--request", "1234", "--set", "max-payload-bytes=4"])["request"] as? String
            == Data("1234".utf8).base64EncodedString())
    }

    @Test func execListActiveSaysWhenTheLastExecutionEnded() async throws {
        let cli = CLIDatabase()
        _ = try await cli.object(["init"])
        // nothing ever ran
        let never = try await cli.object(["exec", "list", "--active"])
        #expect(never["executions"] as? [Any] != nil && (never["executions"] as? [Any])?.isEmpty == true)
        #expect(Self.isNull(never["lastEndedAt"]))
        let neverText = try await cli.run(["exec", "list", "--active"])
        #expect(neverText.status == 0)
        #expect(neverText.stdout == "no running executions; none has ended yet\n")

        let key = try await cli.open(["--user", "ada"])
        let id = try #require(try await cli.object(["exec", "create", key])["operationId"] as? String)
        #expect(try await cli.ids(["exec", "list", "--active"]) == [id])
        _ = try await cli.object(["exec", "set", key, id, "started"])
        let endedAt = try #require(try await cli.object(["exec", "set", key, id, "finished"])["endedAt"] as? String)
        _ = try await cli.object(["exec", "set", key, id, "closed"])

        // idle: the last end, in JSON and text
        let idle = try await cli.object(["exec", "list", "--active"])
        #expect((idle["executions"] as? [Any])?.isEmpty == true)
        #expect(idle["lastEndedAt"] as? String == endedAt)
        let idleText = try await cli.run(["exec", "list", "--active"])
        #expect(idleText.stdout == "no running executions; the last one ended at \(endedAt)\n")
        // a session's own --active list has the same shape, lastEndedAt null
        let own = try await cli.object(["exec", "list", key, "--active"])
        #expect((own["executions"] as? [Any])?.isEmpty == true)
        #expect(Self.isNull(own["lastEndedAt"]))
    }

    @Test func interruptQueriesAndResources() async throws {
        let cli = CLIDatabase()
        let key = try await cli.open(["--user", "ada"])
        func create(_ tags: [String]) async throws -> String {
            try #require(try await cli.object(["exec", "create", key] + tags.flatMap { ["--tag", $0] })["operationId"] as? String)
        }
        let a = try await create(["t1"])
        let b = try await create(["t1", "t2"])
        let c = try await create([])
        let done = try await create(["t1"])
        _ = try await cli.object(["exec", "set", key, done, "started"])
        _ = try await cli.object(["exec", "set", key, done, "finished"])

        // query register / list / stop
        let q1 = try await cli.object(["query", "register", key, "q1", "--tag", "t1", "--name", "first"])
        #expect(q1["queryId"] as? String == "q1")
        #expect(q1["runId"] as? String == "q1")
        #expect(q1["name"] as? String == "first")
        #expect(q1["state"] as? String == "active")
        #expect(q1["tags"] as? [String] == ["t1"])
        #expect(q1["sessionKey"] as? String == key)
        #expect(Self.isTime(q1["registeredAt"]))
        let q2 = try await cli.object(["query", "register", key, "q2", "--run-id", "run-2", "--operation-id", c])
        #expect(q2["runId"] as? String == "run-2")
        #expect(q2["operationId"] as? String == c)
        _ = try await cli.object(["query", "register", key, "q3"])
        #expect(try await cli.error(["query", "register", key, "q3"]).code == "INVALID_HANDLE.STREAMING_QUERY_ALREADY_EXISTS")
        let stopped = try await cli.object(["query", "stop", key, "q3", "--reason", "enough"])
        #expect(stopped["state"] as? String == "stopped")
        #expect(stopped["stopReason"] as? String == "enough")
        #expect(Self.isTime(stopped["stoppedAt"]))
        #expect(try await cli.array(["query", "list", key]).compactMap { $0["queryId"] as? String } == ["q1", "q2", "q3"])
        #expect(try await cli.array(["query", "list", key, "--active"]).compactMap { $0["queryId"] as? String } == ["q1", "q2"])
        #expect(try await cli.error(["query", "stop", key, "nope"]).code == "INVALID_HANDLE.STREAMING_QUERY_NOT_FOUND")

        // interrupt by operation id: that one, no query stopped
        #expect(try await cli.object(["interrupt", key, "--operation-id", a])["interrupted"] as? [String] == [a])
        #expect(try await cli.object(["interrupt", key, "--operation-id", done])["interrupted"] as? [String] == [])
        #expect(try await cli.array(["query", "list", key, "--active"]).count == 2)
        // by tag: running ones with it, and its queries
        #expect(try await cli.object(["interrupt", key, "--tag", "t1"])["interrupted"] as? [String] == [b])
        #expect(try await cli.array(["query", "list", key, "--active"]).compactMap { $0["queryId"] as? String } == ["q2"])
        // all
        #expect(try await cli.object(["interrupt", key, "--all"])["interrupted"] as? [String] == [c])
        #expect(try await cli.array(["query", "list", key, "--active"]).isEmpty)
        let statuses = try await cli.executions(["exec", "list", key]).compactMap { $0["status"] as? String }
        #expect(statuses == ["canceled", "canceled", "canceled", "finished"])
        // exactly one mode
        #expect(try await cli.run(["interrupt", key, "--json"]).status != 0)
        #expect(try await cli.run(["interrupt", key, "--all", "--tag", "t1", "--json"]).status != 0)

        // resources
        let added = try await cli.object(["resource", "add", key, "artifact", "lib.jar", "--bytes", "1000"])
        #expect(added["kind"] as? String == "artifact")
        #expect(added["name"] as? String == "lib.jar")
        #expect(added["bytes"] as? Int == 1000)
        #expect(added["sessionKey"] as? String == key)
        #expect(Self.isTime(added["createdAt"]))
        _ = try await cli.object(["resource", "add", key, "view", "tmp_sales"])
        #expect(try await cli.array(["resource", "list", key]).compactMap { $0["name"] as? String } == ["lib.jar", "tmp_sales"])
        #expect(try await cli.error(["resource", "add", key, "view", "tmp_sales"]).code == "INVALID_HANDLE.RESOURCE_ALREADY_EXISTS")
        let limited = try await cli.error([
            "resource", "add", key, "artifact", "big.bin", "--bytes", "10", "--set", "max-resource-bytes-per-session=1005",
        ])
        #expect(limited.code == "LIMIT_EXCEEDED.RESOURCE_BYTES_PER_SESSION")
        let released = try await cli.object(["resource", "release", key, "artifact", "lib.jar"])
        #expect(released["name"] as? String == "lib.jar")
        #expect(try await cli.array(["resource", "list", key]).compactMap { $0["name"] as? String } == ["tmp_sales"])
        #expect(try await cli.error(["resource", "release", key, "artifact", "lib.jar"]).code == "INVALID_HANDLE.RESOURCE_NOT_FOUND")

        // limits through --set
        _ = try await cli.object(["query", "register", key, "q4"])
        let queryLimit = try await cli.error(["query", "register", key, "q5", "--set", "max-streaming-queries-per-session=1"])
        #expect(queryLimit.code == "LIMIT_EXCEEDED.STREAMING_QUERIES_PER_SESSION")
        _ = try await cli.object(["exec", "create", key])
        let executionLimit = try await cli.error(["exec", "create", key, "--set", "max-concurrent-executions-per-session=1"])
        #expect(executionLimit.code == "LIMIT_EXCEEDED.EXECUTIONS_PER_SESSION")

        // closing releases the rest
        _ = try await cli.object(["close", key])
        #expect(try await cli.array(["resource", "list", key]).isEmpty)
        #expect(try await cli.array(["query", "list", key, "--active"]).isEmpty)
    }

    @Test func listAbandonedShowsWhatMaintenanceAbandoned() async throws {
        let test = TestStore(start: TestStore.realTime(offsetBy: 86_400))
        let (session, abandoned, elsewhere, kept) = try await test.withStore { $0.detachedTimeout = .milliseconds(60_000) } body: { store in
            let session = try await store.openSession(userId: "ada")
            let other = try await store.openSession(userId: "bob")
            let abandoned = try await store.createExecution(key: session.key, reattachable: true)
            try await store.detachExecution(key: session.key, operationId: abandoned.operationId)
            let elsewhere = try await store.createExecution(key: other.key)
            try await store.detachExecution(key: other.key, operationId: elsewhere.operationId)
            let kept = try await store.createExecution(key: session.key)
            test.clock.advance(by: .milliseconds(60_001))
            let report = try await store.runExecutionMaintenance()
            #expect(Set(report.abandonedOperations.keys) == [abandoned.operationId, elsewhere.operationId])
            return (session, abandoned, elsewhere, kept)
        }

        let cli = CLIDatabase(path: test.path)
        let listed = try await cli.executions(["exec", "list", "--abandoned"])
        #expect(Set(listed.compactMap { $0["operationId"] as? String }) == [abandoned.operationId, elsewhere.operationId])
        for execution in listed {
            #expect(execution["status"] as? String == "closed")
            #expect(Self.isTime(execution["abandonedAt"]))
        }
        #expect(try await cli.ids(["exec", "list", session.key, "--abandoned"]) == [abandoned.operationId])
        #expect(try await cli.ids(["exec", "list", session.key, "--active"]) == [kept.operationId])
        let reuse = try await cli.error(["exec", "create", session.key, "--operation-id", abandoned.operationId])
        #expect(reuse.code == "INVALID_HANDLE.OPERATION_ABANDONED")
    }
}

extension CLIDatabase {
    /// The executions of `exec list --json`, the "executions" of its object.
    fileprivate func executions(
        _ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> [[String: Any]] {
        let listed = try await object(arguments, sourceLocation: sourceLocation)
        return try #require(listed["executions"] as? [[String: Any]], "no executions array: \(listed)", sourceLocation: sourceLocation)
    }

    /// The ids of the executions of `exec list --json`, in order.
    fileprivate func ids(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String] {
        try await executions(arguments, sourceLocation: sourceLocation).compactMap { $0["operationId"] as? String }
    }
}
