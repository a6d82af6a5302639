import SessionStore
import Testing

/// A session keeps at most `max-unclosed-executions-per-session` executions that are not
/// closed, running or ended; one more is refused with nothing written, and closing one
/// makes room. Closed executions do not count.
@Suite struct UnclosedExecutionLimitTests {
    @Test(arguments: Backend.all)
    func theExecutionPastTheCapIsRefusedUntilOneIsClosed(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.limits.maxUnclosedExecutionsPerSession = 3 } body: { store in
            let key = try await store.openSession(userId: "ada").key
            var created: [String] = []
            for _ in 0..<3 { created.append(try await store.createExecution(key: key).operationId) }
            // An ended execution still counts until it is closed.
            try await store.setExecutionStatus(key: key, operationId: created[0], to: .started)
            try await store.setExecutionStatus(key: key, operationId: created[0], to: .finished)
            let refusal = await #expect(throws: SessionStoreError.self) { try await store.createExecution(key: key) }
            #expect(refusal?.code == "LIMIT_EXCEEDED.UNCLOSED_EXECUTIONS_PER_SESSION")
            #expect(try await store.listExecutions(key: key).count == 3)

            try await store.setExecutionStatus(key: key, operationId: created[0], to: .closed)
            _ = try await store.createExecution(key: key)
            #expect(try await store.listExecutions(key: key).count == 4)
        }
        #expect(try test.eventCount(kind: EventKind.executionCreated) == 4)
    }

    @Test func theDefaultCapIsAThousand() {
        #expect(SessionStoreConfiguration().limits.maxUnclosedExecutionsPerSession == 1_000)
    }
}
