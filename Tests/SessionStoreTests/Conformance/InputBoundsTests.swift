import Foundation
import SessionStore
import Testing

/// Every per-session collection has a cap with a safe default: exactly the cap is
/// accepted, one more is refused with its `LIMIT_EXCEEDED.*` code and leaves every table
/// as it was (no row, no event). List calls refuse a limit outside 1...10,000.
@Suite struct InputBoundsTests {
    @Test func theDefaultsAreTheSafeOnes() throws {
        let limits = SessionLimits()
        #expect(limits.maxConfigPerSession == 256)
        #expect(limits.maxTagsPerExecution == 64)
        #expect(limits.maxResourcesPerSession == 10_000)
        #expect(limits.maxQueriesPerSession == 1_000)
        var configuration = SessionStoreConfiguration()
        func value(_ name: String) -> String? {
            SessionStoreConfiguration.options.first { $0.name == name }?.value(in: configuration)
        }
        #expect(value("max-config-per-session") == "256")
        #expect(value("max-tags-per-execution") == "64")
        #expect(value("max-resources-per-session") == "10000")
        #expect(value("max-queries-per-session") == "1000")
        try configuration.set("max-config-per-session", to: "3")
        try configuration.set("max-tags-per-execution", to: "4")
        try configuration.set("max-resources-per-session", to: "5")
        try configuration.set("max-queries-per-session", to: "6")
        #expect(configuration.limits.maxConfigPerSession == 3)
        #expect(configuration.limits.maxTagsPerExecution == 4)
        #expect(configuration.limits.maxResourcesPerSession == 5)
        #expect(configuration.limits.maxQueriesPerSession == 6)
        for name in ["max-config-per-session", "max-tags-per-execution", "max-resources-per-session", "max-queries-per-session"] {
            #expect(throws: SessionStoreError.self) { try configuration.set(name, to: "-1") }
            #expect(throws: SessionStoreError.self) { try configuration.set(name, to: "unlimited") }
        }
    }

    // MARK: Config entries

    @Test(arguments: Backend.all)
    func configAtOpenIsCappedAndARefusalWritesNothing(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.limits.maxConfigPerSession = 3 } body: { store in
            let three = ["a": "1", "b": "2", "c": "3"]
            let before = try test.inspector.tableCounts()
            await expectError(SessionStoreError.Code.configPerSession) {
                try await store.openSession(userId: "ada", config: three.merging(["d": "4"]) { $1 })
            }
            #expect(try test.inspector.tableCounts() == before)
            let session = try await store.openSession(userId: "ada", config: three)
            #expect(try await store.session(key: session.key)?.config == three)
        }
    }

    @Test(arguments: Backend.all)
    func setConfigIsCappedAndARefusalWritesNothing(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.limits.maxConfigPerSession = 3 } body: { store in
            let session = try await store.openSession(userId: "ada", config: ["a": "1"])
            // Up to exactly the cap.
            #expect(try await store.setConfig(key: session.key, ["b": "2", "c": "3"]) == ["b", "c"])
            let before = try test.inspector.tableCounts()
            let changes = try test.eventCount(kind: EventKind.configChanged)
            let refusal = await expectError(SessionStoreError.Code.configPerSession) {
                try await store.setConfig(key: session.key, ["a": "10", "d": "4"])
            }
            #expect(refusal?.category == .sizeExceeded)
            #expect(refusal?.message.contains("3") == true)
            #expect(try test.inspector.tableCounts() == before)
            #expect(try test.eventCount(kind: EventKind.configChanged) == changes)
            #expect(try await store.session(key: session.key)?.config == ["a": "1", "b": "2", "c": "3"])
            // Changing the value of a name already held needs no room.
            #expect(try await store.setConfig(key: session.key, ["a": "10"]) == ["a"])
        }
    }

    // MARK: Tags

    @Test(arguments: Backend.all)
    func tagsOfAnExecutionAreCappedAndARefusalWritesNothing(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.limits.maxTagsPerExecution = 3 } body: { store in
            let session = try await store.openSession(userId: "ada")
            let before = try test.inspector.tableCounts()
            let refusal = await expectError(SessionStoreError.Code.tagsPerExecution) {
                try await store.createExecution(key: session.key, tags: ["a", "b", "c", "d"])
            }
            #expect(refusal?.category == .sizeExceeded)
            #expect(try test.inspector.tableCounts() == before)
            let execution = try await store.createExecution(key: session.key, tags: ["a", "b", "c"])
            #expect(execution.tags == ["a", "b", "c"])
        }
    }

    @Test(arguments: Backend.all)
    func tagsOfAStreamingQueryAreCappedWithThoseOfItsExecution(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.limits.maxTagsPerExecution = 3 } body: { store in
            let session = try await store.openSession(userId: "ada")
            let execution = try await store.createExecution(key: session.key, tags: ["a", "b"])
            let before = try test.inspector.tableCounts()
            await expectError(SessionStoreError.Code.tagsPerExecution) {
                try await store.registerQuery(key: session.key, queryId: "q0", runId: "r", tags: ["w", "x", "y", "z"])
            }
            // Its own two and its execution's two make four.
            await expectError(SessionStoreError.Code.tagsPerExecution) {
                try await store.registerQuery(
                    key: session.key, queryId: "q1", runId: "r", operationId: execution.operationId, tags: ["x", "y"])
            }
            #expect(try test.inspector.tableCounts() == before)
            let query = try await store.registerQuery(
                key: session.key, queryId: "q1", runId: "r", operationId: execution.operationId, tags: ["a", "x"])
            #expect(query.tags == ["a", "b", "x"])
        }
    }

    // MARK: Resources

    @Test(arguments: Backend.all)
    func resourcesAreCountedWhateverTheirSizeAndARefusalWritesNothing(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore {
            $0.limits.maxResourcesPerSession = 3
            $0.limits.maxResourceBytesPerSession = 10
        } body: { store in
            let session = try await store.openSession(userId: "ada")
            try await store.addResource(key: session.key, kind: "artifact", name: "a", bytes: 10)
            // At the byte limit, resources of 0 bytes still take a place each.
            try await store.addResource(key: session.key, kind: "view", name: "v1", bytes: 0)
            try await store.addResource(key: session.key, kind: "view", name: "v2", bytes: 0)
            let before = try test.inspector.tableCounts()
            let refusal = await expectError(SessionStoreError.Code.resourcesPerSession) {
                try await store.addResource(key: session.key, kind: "view", name: "v3", bytes: 0)
            }
            #expect(refusal?.category == .capacityExceeded)
            #expect(try test.inspector.tableCounts() == before)
            #expect(try test.eventCount(kind: EventKind.resourceAdded) == 3)

            // Releasing one makes room; the release returns the resource as it was.
            let released = try await store.releaseResource(key: session.key, kind: "artifact", name: "a")
            #expect(released.bytes == 10 && released.kind == "artifact" && released.name == "a")
            await expectError(SessionStoreError.Code.resourceNotFound) {
                try await store.releaseResource(key: session.key, kind: "artifact", name: "a")
            }
            try await store.addResource(key: session.key, kind: "view", name: "v3", bytes: 0)
            #expect(try await store.listResources(key: session.key).map(\.name) == ["v1", "v2", "v3"])
        }
    }

    // MARK: Streaming queries

    @Test(arguments: Backend.all)
    func streamingQueriesKeptAreCappedStoppedOnesIncluded(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.limits.maxQueriesPerSession = 2 } body: { store in
            let session = try await store.openSession(userId: "ada")
            try await store.registerQuery(key: session.key, queryId: "q1", runId: "r1")
            try await store.registerQuery(key: session.key, queryId: "q2", runId: "r2")
            try await store.stopQuery(key: session.key, queryId: "q1")
            let before = try test.inspector.tableCounts()
            let refusal = await expectError(SessionStoreError.Code.queriesPerSession) {
                try await store.registerQuery(key: session.key, queryId: "q3", runId: "r3")
            }
            #expect(refusal?.category == .capacityExceeded)
            #expect(try test.inspector.tableCounts() == before)
            // Removing a stopped query makes room.
            try await store.removeQuery(key: session.key, queryId: "q1")
            try await store.registerQuery(key: session.key, queryId: "q3", runId: "r3")
            #expect(try await store.listQueries(key: session.key).map(\.queryId) == ["q2", "q3"])
        }
    }

    // MARK: List limits

    @Test(arguments: Backend.all)
    func everyListCallRefusesANegativeZeroOrOversizedLimit(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            _ = try await store.openSession(userId: "ada")
            let subscription = try store.subscription(named: "audit")
            let releases = try store.resourceReleases(subscription: "cleaner")
            for limit in [-1, 0, Int.min, 10_001, Int.max] {
                await expectError(SessionStoreError.Code.invalidLimit) { try await store.listActiveExecutions(limit: limit) }
                await expectError(SessionStoreError.Code.invalidLimit) { try await store.listAbandonedExecutions(limit: limit) }
                await expectError(SessionStoreError.Code.invalidLimit) {
                    try await store.listSessions(SessionFilter(limit: limit))
                }
                await expectError(SessionStoreError.Code.invalidLimit) { try await store.listCurrentSessions(limit: limit) }
                await expectError(SessionStoreError.Code.invalidLimit) { try await store.listEvents(limit: limit) }
                await expectError(SessionStoreError.Code.invalidLimit) { try await subscription.listPendingEvents(limit: limit) }
                await expectError(SessionStoreError.Code.invalidLimit) { try await releases.listPending(limit: limit) }
            }
            // The bounds themselves are accepted.
            for limit in [1, 10_000] {
                _ = try await store.listActiveExecutions(limit: limit)
                #expect(try await store.listAbandonedExecutions(limit: limit).isEmpty)
                #expect(try await store.listCurrentSessions(limit: limit).count == 1)
            }
        }
    }
}
