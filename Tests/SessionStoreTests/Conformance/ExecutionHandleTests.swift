import Foundation
import SessionStore
import Testing

/// Operation ids, the session state executions drive, the request bytes and the list of
/// running executions, on every backend.
@Suite struct ExecutionHandleTests {
    typealias Kit = ExecutionTestKit

    // MARK: Operation ids

    @Test(arguments: Backend.all)
    func aDuplicateOperationIdIsRefusedInTheSameSessionOnly(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let a = try await store.openSession(userId: "ada")
            let b = try await store.openSession(userId: "bob")
            let id = Kit.operationId()
            let first = try await store.createExecution(key: a.key, operationId: id, tags: ["x"], statement: "select 1")
            #expect(first.operationId == id)
            #expect(first.sessionKey == a.key)
            #expect(first.userId == "ada")
            #expect(first.jobTag.contains(id))
            #expect(first.jobTag.hasPrefix("SessionStore_User_ada_Session_"))
            // The key proves ownership: it is never in a tag that travels to engine logs.
            #expect(!first.jobTag.contains(a.key))
            #expect(try test.inspector.values("job_tag", of: "executions").compactMap(\.text).filter { $0.contains(a.key) }.isEmpty)

            let rows = try test.inspector.count("executions")
            let events = try test.loggedEventCount()
            let statements = try await store.sessionStatistics(key: a.key).statements
            await expectError("INVALID_HANDLE.OPERATION_ALREADY_EXISTS") {
                try await store.createExecution(key: a.key, operationId: id)
            }
            // The same UUID in capitals is the same id.
            await expectError("INVALID_HANDLE.OPERATION_ALREADY_EXISTS") {
                try await store.createExecution(key: a.key, operationId: id.uppercased(), tags: ["y"])
            }
            // Even once the first has ended and closed, the id stays taken in its session.
            try await Kit.bring(store, session: a.key, operationId: id, to: .closed)
            await expectError("INVALID_HANDLE.OPERATION_ALREADY_EXISTS") {
                try await store.createExecution(key: a.key, operationId: id)
            }
            #expect(try test.inspector.count("executions") == rows)
            #expect(try test.inspector.count("execution_tags") == 1)
            #expect(try test.loggedEventCount(kind: "execution.created") == 1)
            #expect(try test.loggedEventCount() == events + Int64(ExecutionTestKit.path(to: .closed)?.count ?? 0))
            #expect(try await store.sessionStatistics(key: a.key).statements == statements)

            // Another session may use it.
            let other = try await store.createExecution(key: b.key, operationId: id)
            #expect(other.operationId == id)
            #expect(other.sessionKey == b.key)
            #expect(try await store.execution(key: a.key, operationId: id)?.status == .closed)
            #expect(try await store.execution(key: b.key, operationId: id)?.status == .pending)
        }
    }

    @Test(arguments: Backend.all, [
        "abc", "", " ", "'; drop table executions; --", "1 OR 1=1", "00000000-0000-0000-0000-00000000000g",
        "00000000-0000-0000-0000-0000000000000", "{00000000-0000-0000-0000-000000000000}",
    ])
    func aMalformedOperationIdIsAFormatError(backend: Backend, _ id: String) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada")
            let events = try test.loggedEventCount()
            await expectError("INVALID_HANDLE.FORMAT") {
                try await store.createExecution(key: session.key, operationId: id)
            }
            await expectError("INVALID_HANDLE.FORMAT") {
                try await store.setExecutionStatus(key: session.key, operationId: id, to: .started)
            }
            await expectError("INVALID_HANDLE.FORMAT") {
                try await store.attachExecution(key: session.key, operationId: id)
            }
            await expectError("INVALID_HANDLE.FORMAT") {
                try await store.interrupt(key: session.key, operationId: id)
            }
            await expectError("INVALID_HANDLE.FORMAT") {
                try await store.execution(key: session.key, operationId: id)
            }
            // A malformed session key is the same error.
            await expectError("INVALID_HANDLE.FORMAT") {
                try await store.createExecution(key: id)
            }
            #expect(try test.inspector.count("executions") == 0)
            // The table is still there, and empty.
            #expect(try test.inspector.tableCounts()["executions"] == 0)
            #expect(try test.loggedEventCount() == events)
        }
    }

    @Test(arguments: Backend.all)
    func aClosedOrUnknownSessionTakesNoExecutions(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada")
            let execution = try await store.createExecution(key: session.key, reattachable: true)
            try await store.closeSession(key: session.key)
            let events = try test.loggedEventCount()
            await expectError("INVALID_HANDLE.SESSION_CLOSED") {
                try await store.createExecution(key: session.key)
            }
            await expectError("INVALID_HANDLE.SESSION_CLOSED") {
                try await store.attachExecution(key: session.key, operationId: execution.operationId)
            }
            await expectError("INVALID_HANDLE.SESSION_CLOSED") {
                try await store.interruptAll(key: session.key)
            }
            await expectError("INVALID_HANDLE.SESSION_CLOSED") {
                try await store.registerQuery(key: session.key, queryId: "q", runId: "r")
            }
            await expectError("INVALID_HANDLE.SESSION_CLOSED") {
                try await store.addResource(key: session.key, kind: "k", name: "n", bytes: 1)
            }
            await expectError("INVALID_HANDLE.SESSION_NOT_FOUND") {
                try await store.createExecution(key: Kit.operationId())
            }
            #expect(try test.inspector.count("executions") == 1)
            #expect(try test.loggedEventCount() == events)
            // Its executions, closed with it, can still be read.
            #expect(try await store.listExecutions(key: session.key).map(\.status) == [.closed])
        }
    }

    // MARK: Session state follows executions

    @Test(arguments: Backend.all)
    func theSessionIsActiveWhileAnAttachedExecutionRuns(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada")
            let key = session.key
            func state() async throws -> SessionState? { try await store.session(key: key)?.state }
            #expect(try await state() == .idle)

            let first = try await store.createExecution(key: key, reattachable: true)
            #expect(try await state() == .active)
            #expect(try test.sessionStateColumn(key: key) == "active")
            try await Kit.bring(store, session: key, operationId: first.operationId, to: .analyzed)
            #expect(try await state() == .active)
            try await store.setExecutionStatus(key: key, operationId: first.operationId, to: .finished)
            #expect(try await state() == .idle)

            // Detaching the only running execution makes the session idle; reattaching, active.
            let second = try await store.createExecution(key: key, reattachable: true)
            #expect(try await state() == .active)
            try await store.detachExecution(key: key, operationId: second.operationId)
            #expect(try await state() == .idle)
            try await store.attachExecution(key: key, operationId: second.operationId)
            #expect(try await state() == .active)

            // Two running: still active until both are done.
            let third = try await store.createExecution(key: key)
            try await store.setExecutionStatus(key: key, operationId: second.operationId, to: .canceled)
            #expect(try await state() == .active)
            try await store.setExecutionStatus(key: key, operationId: third.operationId, to: .failed, error: "x")
            #expect(try await state() == .idle)
            // Closing terminal executions does not wake the session.
            try await store.setExecutionStatus(key: key, operationId: third.operationId, to: .closed)
            #expect(try await state() == .idle)
        }
    }

    // MARK: request

    @Test(arguments: Backend.all)
    func theRequestIsPartOfTheExecutionByteForByte(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.limits.maxPayloadBytes = 8 } body: { store in
            let session = try await store.openSession(userId: "ada")
            let request = Data([0x0A, 0x00, 0xFF, 0x12, 0x34, 0x56, 0x78, 0x9A])
            let created = try await store.createExecution(key: session.key, request: request)
            #expect(created.request == request)
            let plain = try await store.createExecution(key: session.key)
            #expect(plain.request == nil)
            let empty = try await store.createExecution(key: session.key, request: Data())
            #expect(empty.request == Data())

            #expect(try await store.execution(key: session.key, operationId: created.operationId)?.request == request)
            #expect(try await store.listExecutions(key: session.key).map(\.request) == [request, nil, Data()])
            guard case .running(let running) = try await store.listActiveExecutions() else {
                Issue.record("expected running executions")
                return
            }
            #expect(running.map(\.request) == [request, nil, Data()])
            let moved = try await store.setExecutionStatus(key: session.key, operationId: created.operationId, to: .started)
            #expect(moved.request == request)

            // JSON carries it as Base64, null when absent.
            let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(created)) as? [String: Any]
            #expect(object?["request"] as? String == request.base64EncodedString())
            let none = try JSONSerialization.jsonObject(with: JSONEncoder().encode(plain)) as? [String: Any]
            #expect(none?["request"] is NSNull)

            // Bounded by the payload limit.
            await expectError(SessionStoreError.Code.invalidRequest) {
                try await store.createExecution(key: session.key, request: Data(count: 9))
            }
        }
    }

    // MARK: listActiveExecutions

    @Test(arguments: Backend.all)
    func listActiveExecutionsAnswersTheRunningOnesOrWhenTheLastEnded(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            #expect(try await store.listActiveExecutions() == .idleSince(nil))

            let a = try await store.openSession(userId: "ada")
            let b = try await store.openSession(userId: "bob")
            let first = try await store.createExecution(key: a.key)
            test.clock.advance(by: .milliseconds(10))
            let second = try await store.createExecution(key: b.key, reattachable: true)
            test.clock.advance(by: .milliseconds(10))
            let third = try await store.createExecution(key: a.key)
            // Detached executions still run.
            try await store.detachExecution(key: b.key, operationId: second.operationId)

            guard case .running(let running) = try await store.listActiveExecutions() else {
                Issue.record("expected running executions")
                return
            }
            #expect(running.map(\.operationId) == [first.operationId, second.operationId, third.operationId])
            #expect(running.map(\.sessionKey) == [a.key, b.key, a.key])
            #expect(running.allSatisfy { $0.status.isRunning })

            test.clock.advance(by: .milliseconds(1000))
            try await store.setExecutionStatus(key: a.key, operationId: first.operationId, to: .canceled)
            guard case .running(let fewer) = try await store.listActiveExecutions() else {
                Issue.record("expected running executions")
                return
            }
            #expect(fewer.map(\.operationId) == [second.operationId, third.operationId])

            test.clock.advance(by: .milliseconds(1000))
            try await store.setExecutionStatus(key: b.key, operationId: second.operationId, to: .timedOut)
            test.clock.advance(by: .milliseconds(1000))
            let lastEnd = test.clock.now()
            try await Kit.bring(store, session: a.key, operationId: third.operationId, to: .finished)
            #expect(try await store.listActiveExecutions() == .idleSince(Timestamp(milliseconds: lastEnd)))

            // Closing later does not move "the last end".
            test.clock.advance(by: .milliseconds(1000))
            try await store.setExecutionStatus(key: a.key, operationId: third.operationId, to: .closed)
            #expect(try await store.listActiveExecutions() == .idleSince(Timestamp(milliseconds: lastEnd)))
        }
    }
}
