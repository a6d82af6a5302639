import Foundation
import SessionStore
import Testing

/// Interrupts by operation id, by tag and of everything, and the limits on what a
/// session owns, on every backend.
@Suite struct ExecutionInterruptTests {
    typealias Kit = ExecutionTestKit

    /// A snapshot of everything the store holds that a refused call must not change: the
    /// row count of every table, and each session's, execution's and query's state.
    static func snapshot(_ test: StoreFixture) throws -> [String] {
        let inspector = test.inspector
        var lines = try inspector.tableCounts().sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
        lines += try inspector.rows(["key", "state", "last_access_at", "expire_at"], of: "sessions", where: [:], orderedBy: "id")
            .map { $0.map(\.description).joined(separator: " ") }
        lines += try inspector.rows(["operation_id", "status"], of: "executions", where: [:], orderedBy: "id")
            .map { $0.map(\.description).joined(separator: " ") }
        lines += try inspector.rows(["query_id", "state"], of: "streaming_queries", where: [:], orderedBy: "id")
            .map { $0.map(\.description).joined(separator: " ") }
        return lines
    }

    static func activeQueryIds(_ store: SessionStore, _ key: String) async throws -> [String] {
        try await store.listActiveQueries(key: key).map(\.queryId).sorted()
    }

    @Test(arguments: Backend.all)
    func interruptsCancelRunningExecutionsAndTheRightQueries(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada")
            let other = try await store.openSession(userId: "ada")
            let key = session.key
            let a = try await store.createExecution(key: key, tags: ["t1"])
            let b = try await store.createExecution(key: key, tags: ["t1", "t2"])
            try await store.setExecutionStatus(key: key, operationId: b.operationId, to: .started)
            let c = try await store.createExecution(key: key, tags: ["t2"])
            let d = try await store.createExecution(key: key, tags: ["t1"])
            try await Kit.bring(store, session: key, operationId: d.operationId, to: .finished)
            let e = try await store.createExecution(key: key, tags: ["t1"], reattachable: true)
            try await Kit.bring(store, session: key, operationId: e.operationId, to: .readyForExecution)
            try await store.detachExecution(key: key, operationId: e.operationId)
            let foreign = try await store.createExecution(key: other.key, tags: ["t1"])
            try await store.registerQuery(key: key, queryId: "q1", runId: "r1", operationId: a.operationId, tags: ["t1"])
            try await store.registerQuery(key: key, queryId: "q2", runId: "r2", tags: ["t2"])
            try await store.registerQuery(key: key, queryId: "q3", runId: "r3")
            try await store.registerQuery(key: other.key, queryId: "q1", runId: "r1", tags: ["t1"])

            // By operation id: that execution only; no query is stopped, not even its own.
            #expect(try await store.interrupt(key: key, operationId: a.operationId).operationIds == [a.operationId])
            #expect(try test.executionRow(a.operationId)?.status == "canceled")
            #expect(try await Self.activeQueryIds(store, key) == ["q1", "q2", "q3"])
            #expect(try test.loggedEventCount(kind: "execution.interrupted", operationId: a.operationId) == 1)
            let changes = try test.loggedEvents(
                where: ["kind": .text(EventKind.executionStatus.rawValue), "operation_id": .text(a.operationId)])
            #expect(changes.filter { $0.payload["to"] == "canceled" && $0.payload["reason"] != nil }.count == 1)
            // Again, or on a finished one: nothing to interrupt, nothing touched.
            let events = try test.loggedEventCount()
            #expect(try await store.interrupt(key: key, operationId: a.operationId).operationIds == [])
            #expect(try await store.interrupt(key: key, operationId: d.operationId).operationIds == [])
            #expect(try test.executionRow(d.operationId)?.status == "finished")
            #expect(try test.loggedEventCount() == events)
            await expectError(SessionStoreError.Code.operationNotFound) {
                try await store.interrupt(key: key, operationId: Kit.operationId())
            }
            // Another session's operation id is not found here.
            await expectError(SessionStoreError.Code.operationNotFound) {
                try await store.interrupt(key: key, operationId: foreign.operationId)
            }

            // By tag: the running executions carrying it (attached or not), oldest first, and
            // the queries with that tag; finished ones and other sessions untouched.
            #expect(try await store.interrupt(key: key, tag: "t1").operationIds == [b.operationId, e.operationId])
            #expect(try test.executionRow(b.operationId)?.status == "canceled")
            #expect(try test.executionRow(e.operationId)?.status == "canceled")
            #expect(try test.executionRow(d.operationId)?.status == "finished")
            #expect(try test.executionRow(c.operationId)?.status == "pending")
            #expect(try test.executionRow(foreign.operationId)?.status == "pending")
            #expect(try await Self.activeQueryIds(store, key) == ["q2", "q3"])
            #expect(try await Self.activeQueryIds(store, other.key) == ["q1"])
            let q1 = try #require(try await store.query(key: key, queryId: "q1"))
            #expect(q1.state == .stopped)
            #expect(q1.stopReason?.contains("t1") == true)
            #expect(try await store.interrupt(key: key, tag: "nothing-carries-this").operationIds == [])

            // All: every running execution of the session and every active query.
            #expect(try await store.interruptAll(key: key).operationIds == [c.operationId])
            #expect(try await Self.activeQueryIds(store, key) == [])
            #expect(try test.executionRow(foreign.operationId)?.status == "pending")
            #expect(try await Self.activeQueryIds(store, other.key) == ["q1"])
            #expect(try test.executionRow(d.operationId)?.status == "finished")
            #expect(try await store.interruptAll(key: key).operationIds == [])

            #expect(try test.loggedEventCount(kind: "execution.interrupted") == 4)
            #expect(try test.eventCount(kind: "streaming_query.stopped", key: key) == 3)
            #expect(try await store.session(key: key)?.state == .idle)
            #expect(try await store.session(key: other.key)?.state == .active)
        }
    }

    @Test(arguments: Backend.all)
    func aTagInterruptStopsTaggedQueriesEvenWithNothingRunning(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada")
            try await store.registerQuery(key: session.key, queryId: "q1", runId: "r1", tags: ["etl", "nightly"])
            try await store.registerQuery(key: session.key, queryId: "q2", runId: "r2", tags: ["adhoc"])
            #expect(try await store.interrupt(key: session.key, tag: "nightly").operationIds == [])
            #expect(try await Self.activeQueryIds(store, session.key) == ["q2"])
            #expect(try test.loggedEventCount(kind: "streaming_query.stopped") == 1)
            // Already stopped: no second event.
            #expect(try await store.interrupt(key: session.key, tag: "etl").operationIds == [])
            #expect(try test.loggedEventCount(kind: "streaming_query.stopped") == 1)
        }
    }

    // MARK: Limits on what a session owns

    @Test(arguments: Backend.all)
    func theStreamingQueryLimitCountsActiveQueries(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.limits.maxStreamingQueriesPerSession = 2 } body: { store in
            let session = try await store.openSession(userId: "ada")
            let other = try await store.openSession(userId: "ada")
            try await store.registerQuery(key: session.key, queryId: "q1", runId: "r1")
            try await store.registerQuery(key: session.key, queryId: "q2", runId: "r2")
            let before = try Self.snapshot(test)
            let refusal = await expectError("LIMIT_EXCEEDED.STREAMING_QUERIES_PER_SESSION") {
                try await store.registerQuery(key: session.key, queryId: "q3", runId: "r3")
            }
            #expect(refusal?.message.contains("2") == true)
            #expect(try Self.snapshot(test) == before)

            // Another session has its own allowance.
            try await store.registerQuery(key: other.key, queryId: "q1", runId: "r1")
            // A stopped query frees its slot, but its id stays taken while it is kept.
            try await store.stopQuery(key: session.key, queryId: "q1")
            await expectError(SessionStoreError.Code.queryAlreadyExists) {
                try await store.registerQuery(key: session.key, queryId: "q1", runId: "r9")
            }
            try await store.registerQuery(key: session.key, queryId: "q3", runId: "r3")
            await expectError("LIMIT_EXCEEDED.STREAMING_QUERIES_PER_SESSION") {
                try await store.registerQuery(key: session.key, queryId: "q4", runId: "r4")
            }
            #expect(try await Self.activeQueryIds(store, session.key) == ["q2", "q3"])
            #expect(try test.loggedEventCount(kind: "streaming_query.registered") == 4)
        }
    }

    @Test(arguments: Backend.all)
    func theResourceBytesLimitRefusesWithoutWritingAnything(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.limits.maxResourceBytesPerSession = 100 } body: { store in
            let session = try await store.openSession(userId: "ada")
            let other = try await store.openSession(userId: "ada")
            try await store.addResource(key: session.key, kind: "artifact", name: "a", bytes: 60)
            let before = try Self.snapshot(test)
            let refusal = await expectError("LIMIT_EXCEEDED.RESOURCE_BYTES_PER_SESSION") {
                try await store.addResource(key: session.key, kind: "artifact", name: "b", bytes: 41)
            }
            #expect(refusal?.message.contains("100") == true)
            #expect(try Self.snapshot(test) == before)
            #expect(try await store.listResources(key: session.key).map(\.name) == ["a"])
            #expect(try test.loggedEventCount(kind: "resource.added") == 1)

            // Exactly at the limit is allowed, and so is a zero-byte resource at the limit.
            try await store.addResource(key: session.key, kind: "artifact", name: "b", bytes: 40)
            try await store.addResource(key: session.key, kind: "view", name: "v", bytes: 0)
            await expectError("LIMIT_EXCEEDED.RESOURCE_BYTES_PER_SESSION") {
                try await store.addResource(key: session.key, kind: "artifact", name: "c", bytes: 1)
            }
            // A huge size does not overflow into "allowed".
            await expectError("LIMIT_EXCEEDED.RESOURCE_BYTES_PER_SESSION") {
                try await store.addResource(key: session.key, kind: "artifact", name: "c", bytes: .max)
            }
            // The limit is per session.
            try await store.addResource(key: other.key, kind: "artifact", name: "a", bytes: 100)
            // Releasing frees bytes.
            try await store.releaseResource(key: session.key, kind: "artifact", name: "a")
            try await store.addResource(key: session.key, kind: "artifact", name: "c", bytes: 60)

            await expectError(SessionStoreError.Code.resourceAlreadyExists) {
                try await store.addResource(key: session.key, kind: "artifact", name: "c", bytes: 0)
            }
            await expectError("INVALID_ARGUMENT.BYTES") {
                try await store.addResource(key: session.key, kind: "artifact", name: "d", bytes: -1)
            }
            #expect(try await store.listResources(key: session.key).map(\.bytes).reduce(0, +) == 100)
            #expect(try test.inspector.count("session_resources") == 4)
        }
    }
}
