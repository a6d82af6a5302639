import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

@Suite struct ExecutionInterruptTests {
    typealias Kit = ExecutionTestKit

    /// A snapshot of everything the file holds that a refused call must not change.
    static func snapshot(_ test: TestStore) throws -> [String] {
        try test.inspect { db in
            let tables = try db.fetchAll(
                sql: "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            ) { $0.string(0) }
            var lines: [String] = []
            for table in tables {
                lines.append("\(table): \(try db.fetchInt64(sql: "SELECT count(*) FROM \"\(table)\"") ?? -1)")
            }
            lines += try db.fetchAll(sql: "SELECT key, state, last_access_at, expire_at FROM sessions ORDER BY id") {
                "\($0.string(0)) \($0.string(1)) \($0.int64(2)) \($0.optionalInt64(3).map(String.init) ?? "-")"
            }
            lines += try db.fetchAll(sql: "SELECT operation_id, status FROM executions ORDER BY id") {
                "\($0.string(0)) \($0.string(1))"
            }
            lines += try db.fetchAll(sql: "SELECT query_id, state FROM streaming_queries ORDER BY id") {
                "\($0.string(0)) \($0.string(1))"
            }
            return lines
        }
    }

    static func activeQueryIds(_ store: SessionStore, _ key: String) async throws -> [String] {
        try await store.listActiveQueries(key: key).map(\.queryId).sorted()
    }

    @Test func interruptsCancelRunningExecutionsAndTheRightQueries() async throws {
        let test = TestStore()
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
            #expect(try Kit.row(test, a.operationId)?.status == "canceled")
            #expect(try await Self.activeQueryIds(store, key) == ["q1", "q2", "q3"])
            #expect(try Kit.events(test, kind: "execution.interrupted", operationId: a.operationId) == 1)
            #expect(
                try test.count(
                    """
                    SELECT count(*) FROM events WHERE kind = 'execution.status_changed' AND operation_id = ?
                        AND json_extract(payload, '$.to') = 'canceled' AND json_extract(payload, '$.reason') IS NOT NULL
                    """, [.text(a.operationId)]) == 1)
            // Again, or on a finished one: nothing to interrupt, nothing touched.
            let events = try Kit.events(test)
            #expect(try await store.interrupt(key: key, operationId: a.operationId).operationIds == [])
            #expect(try await store.interrupt(key: key, operationId: d.operationId).operationIds == [])
            #expect(try Kit.row(test, d.operationId)?.status == "finished")
            #expect(try Kit.events(test) == events)
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
            #expect(try Kit.row(test, b.operationId)?.status == "canceled")
            #expect(try Kit.row(test, e.operationId)?.status == "canceled")
            #expect(try Kit.row(test, d.operationId)?.status == "finished")
            #expect(try Kit.row(test, c.operationId)?.status == "pending")
            #expect(try Kit.row(test, foreign.operationId)?.status == "pending")
            #expect(try await Self.activeQueryIds(store, key) == ["q2", "q3"])
            #expect(try await Self.activeQueryIds(store, other.key) == ["q1"])
            let q1 = try #require(try await store.query(key: key, queryId: "q1"))
            #expect(q1.state == .stopped)
            #expect(q1.stopReason?.contains("t1") == true)
            #expect(try await store.interrupt(key: key, tag: "nothing-carries-this").operationIds == [])

            // All: every running execution of the session and every active query.
            #expect(try await store.interruptAll(key: key).operationIds == [c.operationId])
            #expect(try await Self.activeQueryIds(store, key) == [])
            #expect(try Kit.row(test, foreign.operationId)?.status == "pending")
            #expect(try await Self.activeQueryIds(store, other.key) == ["q1"])
            #expect(try Kit.row(test, d.operationId)?.status == "finished")
            #expect(try await store.interruptAll(key: key).operationIds == [])

            #expect(try Kit.events(test, kind: "execution.interrupted") == 4)
            #expect(
                try test.count(
                    "SELECT count(*) FROM events WHERE kind = 'streaming_query.stopped' AND session_key = ?", [.text(key)]) == 3)
            #expect(try await store.session(key: key)?.state == .idle)
            #expect(try await store.session(key: other.key)?.state == .active)
        }
    }

    @Test func aTagInterruptStopsTaggedQueriesEvenWithNothingRunning() async throws {
        let test = TestStore()
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada")
            try await store.registerQuery(key: session.key, queryId: "q1", runId: "r1", tags: ["etl", "nightly"])
            try await store.registerQuery(key: session.key, queryId: "q2", runId: "r2", tags: ["adhoc"])
            #expect(try await store.interrupt(key: session.key, tag: "nightly").operationIds == [])
            #expect(try await Self.activeQueryIds(store, session.key) == ["q2"])
            #expect(try Kit.events(test, kind: "streaming_query.stopped") == 1)
            // Already stopped: no second event.
            #expect(try await store.interrupt(key: session.key, tag: "etl").operationIds == [])
            #expect(try Kit.events(test, kind: "streaming_query.stopped") == 1)
        }
    }

    // MARK: Limits on what a session owns

    @Test func theStreamingQueryLimitCountsActiveQueries() async throws {
        let test = TestStore()
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
            #expect(try Kit.events(test, kind: "streaming_query.registered") == 4)
        }
    }

    @Test func theResourceBytesLimitRefusesWithoutWritingAnything() async throws {
        let test = TestStore()
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
            #expect(try Kit.events(test, kind: "resource.added") == 1)

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
            #expect(try test.count("SELECT count(*) FROM session_resources") == 4)
        }
    }
}
