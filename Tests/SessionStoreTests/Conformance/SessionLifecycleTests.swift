import Foundation
import SessionStore
import Testing

@Suite struct SessionLifecycleTests {
    // MARK: openSession

    /// The request columns of a `sessions` row, as stored: each value with its type.
    struct Stored: Equatable {
        var userId, sessionId, dataSource, type: StoredValue
        var version: StoredValue
        var identifier: StoredValue
        var utcOffset: StoredValue
        var address, impersonated, state: StoredValue
        var timeout, expireAt: StoredValue
    }

    static func storedRow(_ test: StoreFixture, key: String) throws -> Stored? {
        let columns = [
            "user_id", "client_session_id", "data_source", "type", "version", "identifier", "utc_offset_seconds",
            "client_address", "impersonated_user", "state", "timeout_ms", "expire_at",
        ]
        return try test.inspector.rows(columns, of: "sessions", where: ["key": .text(key)], orderedBy: nil).first.map {
            Stored(
                userId: $0[0], sessionId: $0[1], dataSource: $0[2], type: $0[3], version: $0[4], identifier: $0[5],
                utcOffset: $0[6], address: $0[7], impersonated: $0[8], state: $0[9], timeout: $0[10], expireAt: $0[11])
        }
    }

    @Test(arguments: Backend.all)
    func openStoresAndReturnsEveryRequestField(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { $0.impersonationPolicy = ProxyUsersImpersonation(proxyUsers: ["gateway"]) } body: { store in
            let first = try await store.openSession(userId: "gateway", sessionId: "child-1")
            let second = try await store.openSession(userId: "gateway")

            var request = OpenSessionRequest(userId: "gateway", sessionId: "parent")
            request.dataSource = "telemetry"
            request.type = "Stream"
            request.version = 3
            request.identifier = "device-7"
            request.utcOffsetSeconds = -18_000
            request.details = ["device": "sensor-7", "site": "north"]
            request.config = ["spark.sql.shuffle.partitions": "8"]
            request.associates = [first.key, second.key.uppercased()]
            request.clientAddress = "10.0.0.5"
            request.impersonatedUser = "ada"
            request.timeout = .after(.milliseconds(90_000))
            let session = try await store.openSession(request)

            #expect(session.key.count == 36)
            #expect(session.key == session.key.lowercased())
            #expect(UUID(uuidString: session.key) != nil)
            #expect(session.userId == "gateway")
            #expect(session.sessionId == "parent")
            #expect(session.dataSource == "telemetry")
            #expect(session.type == "Stream")
            #expect(session.version == 3)
            #expect(session.identifier == "device-7")
            #expect(session.utcOffsetSeconds == -18_000)
            #expect(session.details == ["device": "sensor-7", "site": "north"])
            #expect(session.config == ["spark.sql.shuffle.partitions": "8"])
            #expect(session.children == [first.key, second.key])
            #expect(session.parents == [])
            #expect(session.clientAddress == "10.0.0.5")
            #expect(session.impersonatedUser == "ada")
            #expect(session.state == .idle)
            #expect(session.isLive)
            #expect(session.timeout == .after(.milliseconds(90_000)))
            #expect(session.createdAt.milliseconds == StoreFixture.start)
            #expect(session.lastAccessAt.milliseconds == StoreFixture.start)
            #expect(session.expireAt?.milliseconds == StoreFixture.start + 90_000)
            #expect(session.endedAt == nil)
            #expect(session.endReason == nil)

            // Read back through the API: identical.
            #expect(try await store.session(key: session.key) == session)
            #expect(try await store.session(key: first.key)?.parents == [session.key])
            #expect(try await store.session(key: second.key)?.parents == [session.key])

            // The row as stored.
            let stored = try Self.storedRow(test, key: session.key)
            #expect(
                stored
                    == Stored(
                        userId: "gateway", sessionId: "parent", dataSource: "telemetry", type: "Stream", version: 3,
                        identifier: "device-7", utcOffset: -18_000, address: "10.0.0.5", impersonated: "ada", state: "idle",
                        timeout: 90_000, expireAt: .integer(StoreFixture.start + 90_000)))
            #expect(try test.count("session_details", ofSession: session.key) == 2)
            #expect(try test.count("session_config", ofSession: session.key) == 1)
            #expect(try test.count("session_links", ofSession: session.key, column: "parent_id") == 2)

            // One session.started event describing it.
            let started = try await store.listEvents(filter: EventFilter(sessionKey: session.key, kind: EventKind.sessionStarted))
            #expect(started.count == 1)
            let event = try #require(started.first)
            #expect(event.userId == "gateway")
            #expect(event.dataSource == "telemetry")
            #expect(event.at.milliseconds == StoreFixture.start)
            #expect(event.payload["type"] == "Stream")
            #expect(event.payload["timeoutMs"] == "90000")
            #expect(event.payload["sessionId"] == "parent")
            #expect(event.payload["clientAddress"] == "10.0.0.5")
            #expect(event.payload["impersonatedUser"] == "ada")
        }
    }

    @Test(arguments: Backend.all)
    func openWithDefaultsFillsTheDocumentedDefaults(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada")
            #expect(session.sessionId == nil)
            #expect(session.dataSource == "default")
            #expect(session.type == "Session")
            #expect(session.version == 1)
            #expect(session.identifier == nil)
            #expect(session.utcOffsetSeconds == 0)
            #expect(session.details.isEmpty)
            #expect(session.config.isEmpty)
            #expect(session.clientAddress == nil)
            #expect(session.impersonatedUser == nil)
            #expect(session.timeout == .after(.milliseconds(3_600_000)))
            #expect(try test.inspector.count("sessions", where: ["client_session_id": nil, "identifier": nil]) == 1)
        }
    }

    /// (requested, negotiated) with the default configuration: default 1 h, min 1 s,
    /// max 7 days, "never" allowed.
    static let timeoutCases: [(SessionTimeout?, Int64?)] = [
        (nil, 3_600_000),
        (.after(.milliseconds(10)), 1000),
        (.after(.milliseconds(0)), 1000),
        (.after(.milliseconds(45_500)), 45_500),
        (.after(.milliseconds(30 * 86_400_000)), 7 * 86_400_000),
        (.after(.milliseconds(Int64.max)), 7 * 86_400_000),
        (.after(.seconds(120)), 120_000),
        (.never, nil),
    ]

    @Test(arguments: Backend.all, timeoutCases)
    func timeoutIsNegotiated(backend: Backend, negotiation: (requested: SessionTimeout?, expected: Int64?)) async throws {
        let (requested, expected) = negotiation
        let test = try await StoreFixture(backend)
        test.clock.advance(by: .milliseconds(123))
        try await test.withStore { store in
            let now = StoreFixture.start + 123
            let session = try await store.openSession(userId: "ada", timeout: requested)
            #expect(session.timeout == (expected.map { .after(.milliseconds($0)) } ?? .never))
            let expireAt = expected.map { roundUp(now + $0, 1000) }
            #expect(session.expireAt?.milliseconds == expireAt)
            #expect(try test.timing(key: session.key) == StoreFixture.RowTiming(expireAt: expireAt, lastAccessAt: now))
            let timeoutColumn = try test.inspector.value("timeout_ms", of: "sessions", where: ["key": .text(session.key)])
            #expect(timeoutColumn == StoredValue(expected))
        }
    }

    @Test(arguments: Backend.all)
    func neverBecomesTheMaximumWhenNotAllowed(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore {
            $0.allowNeverTimeout = false
            $0.maxTimeout = .milliseconds(600_000)
        } body: { store in
            let session = try await store.openSession(userId: "ada", timeout: .never)
            #expect(session.timeout == .after(.milliseconds(600_000)))
            #expect(session.expireAt?.milliseconds == StoreFixture.start + 600_000)
        }
    }

    @Test(arguments: Backend.all)
    func configuredDefaultAndBoundsApply(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore {
            $0.defaultTimeout = .after(.milliseconds(30_000))
            $0.minTimeout = .milliseconds(5_000)
            $0.maxTimeout = .milliseconds(60_000)
            $0.tick = .milliseconds(2_000)
        } body: { store in
            #expect(try await store.openSession(userId: "ada").timeout == .after(.milliseconds(30_000)))
            #expect(try await store.openSession(userId: "ada", timeout: .after(.milliseconds(1))).timeout == .after(.milliseconds(5_000)))
            #expect(try await store.openSession(userId: "ada", timeout: .after(.milliseconds(61_000))).timeout == .after(.milliseconds(60_000)))
            test.clock.advance(by: .milliseconds(1))
            let rounded = try await store.openSession(userId: "ada", timeout: .after(.milliseconds(7_000)))
            #expect(rounded.expireAt?.milliseconds == roundUp(StoreFixture.start + 1 + 7_000, 2_000))
        }
    }

    // MARK: Re-open, reconnect, isolated sessions

    @Test(arguments: Backend.all)
    func reopeningAClosedSessionIdFailsUnlessReconnecting(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let first = try await store.openSession(userId: "ada", sessionId: "s1")
            try await store.closeSession(key: first.key)
            let before = try test.inspector.tableCounts()

            await expectError(SessionStoreError.Code.sessionClosed) {
                try await store.openSession(userId: "ada", sessionId: "s1")
            }
            #expect(try test.inspector.tableCounts() == before)

            var request = OpenSessionRequest(userId: "ada", sessionId: "s1")
            request.reconnect = true
            let second = try await store.openSession(request)
            #expect(second.key != first.key)
            #expect(second.state == .idle)
            #expect(second.sessionId == "s1")
            #expect(try await store.session(key: first.key)?.state == .closed)
            #expect(try test.inspector.count("sessions", where: ["user_id": "ada", "client_session_id": "s1"]) == 2)
            #expect(try test.inspector.count("sessions", where: ["client_session_id": "s1", "state": "idle"]) == 1)
            // The isolated lookup now finds the new, live one.
            #expect(try await store.isolatedSession(userId: "ada", sessionId: "s1")?.key == second.key)
        }
    }

    @Test(arguments: Backend.all)
    func openingALiveSessionIdTwiceFailsAndReconnectReturnsIt(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let first = try await store.openSession(userId: "ada", sessionId: "s1")
            await expectError(SessionStoreError.Code.sessionAlreadyExists) {
                try await store.openSession(userId: "ada", sessionId: "s1")
            }
            var request = OpenSessionRequest(userId: "ada", sessionId: "s1")
            request.reconnect = true
            let again = try await store.openSession(request)
            #expect(again.key == first.key)
            #expect(try test.inspector.count("sessions") == 1)
            #expect(try test.eventCount(kind: EventKind.sessionStarted) == 1)
            // Another user may use the same session id.
            let bobs = try await store.openSession(userId: "bob", sessionId: "s1")
            #expect(bobs.key != first.key)
        }
    }

    @Test(arguments: Backend.all)
    func getOrCreateIsolatedSessionCreatesThenReturnsTheSameKey(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let created = try await store.openIsolatedSession(userId: "ada", sessionId: "nb")
            #expect(created.userId == "ada")
            #expect(created.sessionId == "nb")
            #expect(created.isLive)
            #expect(try test.inspector.count("sessions") == 1)

            test.clock.advance(by: .milliseconds(5_000))
            let again = try await store.openIsolatedSession(userId: "ada", sessionId: "nb")
            #expect(again.key == created.key)
            #expect(try test.inspector.count("sessions") == 1)
            #expect(try test.eventCount(kind: EventKind.sessionStarted) == 1)
            // Returning it counted as an access.
            #expect(
                try test.timing(key: created.key)
                    == StoreFixture.RowTiming(expireAt: StoreFixture.start + 5_000 + 3_600_000, lastAccessAt: StoreFixture.start + 5_000))

            let bobs = try await store.openIsolatedSession(userId: "bob", sessionId: "nb")
            #expect(bobs.key != created.key)
            #expect(bobs.userId == "bob")

            try await store.closeSession(key: created.key)
            await expectError(SessionStoreError.Code.sessionClosed) {
                try await store.openIsolatedSession(userId: "ada", sessionId: "nb")
            }
            #expect(try test.inspector.count("sessions") == 2)
        }
    }

    /// A session handed back after an access should be the session as stored after
    /// that access, not the snapshot read before it.
    @Test(arguments: Backend.all)
    func sessionsReturnedAfterAnAccessShowTheAccess(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let created = try await store.openIsolatedSession(userId: "ada", sessionId: "nb")
            test.clock.advance(by: .milliseconds(5_000))
            let again = try await store.openIsolatedSession(userId: "ada", sessionId: "nb")
            let stored = try await store.session(key: created.key)
            #expect(again.lastAccessAt == stored?.lastAccessAt)
            #expect(again.expireAt == stored?.expireAt)

            test.clock.advance(by: .milliseconds(5_000))
            let found = try await store.isolatedSession(userId: "ada", sessionId: "nb")
            let storedAfterLookup = try await store.session(key: created.key)
            #expect(found?.lastAccessAt == storedAfterLookup?.lastAccessAt)
            #expect(found?.expireAt == storedAfterLookup?.expireAt)
        }
    }

    @Test(arguments: Backend.all)
    func getIsolatedSessionFindsOnlyTheCallersOwnSession(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            #expect(try await store.isolatedSession(userId: "ada", sessionId: "shared") == nil)

            let adas = try await store.openSession(userId: "ada", sessionId: "shared")
            #expect(try await store.isolatedSession(userId: "bob", sessionId: "shared") == nil)
            #expect(try await store.isolatedSession(userId: "ada", sessionId: "other") == nil)
            #expect(try await store.isolatedSession(userId: "ada", sessionId: "shared")?.key == adas.key)

            let bobs = try await store.openSession(userId: "bob", sessionId: "shared")
            #expect(try await store.isolatedSession(userId: "bob", sessionId: "shared")?.key == bobs.key)
            #expect(try await store.isolatedSession(userId: "ada", sessionId: "shared")?.key == adas.key)

            // Bob's session ending never reveals Ada's.
            try await store.closeSession(key: bobs.key)
            await expectError(SessionStoreError.Code.sessionClosed) {
                try await store.isolatedSession(userId: "bob", sessionId: "shared")
            }
            #expect(try await store.isolatedSession(userId: "ada", sessionId: "shared")?.key == adas.key)
        }
    }

    @Test(arguments: Backend.all)
    func getIsolatedSessionCountsAsAnAccess(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada", sessionId: "s1", timeout: .after(.milliseconds(10_000)))
            test.clock.advance(by: .milliseconds(4_000))
            _ = try await store.isolatedSession(userId: "ada", sessionId: "s1")
            #expect(
                try test.timing(key: session.key)
                    == StoreFixture.RowTiming(expireAt: StoreFixture.start + 14_000, lastAccessAt: StoreFixture.start + 4_000))
        }
    }

    // MARK: session(key:), touch, close

    @Test(arguments: Backend.all)
    func sessionByKeyFindsLiveAndEndedSessionsAndNilForUnknown(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            #expect(try await store.session(key: UUID().uuidString) == nil)
            #expect(try await store.session(key: "00000000-0000-0000-0000-000000000000") == nil)

            let session = try await store.openSession(userId: "ada")
            #expect(try await store.session(key: session.key)?.state == .idle)
            #expect(try await store.session(key: session.key.uppercased())?.key == session.key)

            test.clock.advance(by: .milliseconds(2_500))
            try await store.closeSession(key: session.key, reason: "done")
            let tombstone = try #require(try await store.session(key: session.key))
            #expect(tombstone.state == .closed)
            #expect(!tombstone.isLive)
            #expect(tombstone.endedAt?.milliseconds == StoreFixture.start + 2_500)
            #expect(tombstone.endReason == "done")
            #expect(tombstone.expireAt == nil)

            // Reading does not count as an access.
            let live = try await store.openSession(userId: "ada")
            test.clock.advance(by: .milliseconds(5_000))
            _ = try await store.session(key: live.key)
            #expect(try test.timing(key: live.key)?.lastAccessAt == StoreFixture.start + 2_500)
        }
    }

    @Test(arguments: Backend.all)
    func touchIsLiveWhileLiveClosedAfterCloseAndUnknownForUnknownKeys(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada")
            #expect(try await store.touch(key: session.key) == .live)
            #expect(try await store.touch(key: session.key.uppercased()) == .live)
            #expect(try await store.touch(key: UUID().uuidString) == .unknown)
            #expect(try await store.touch(key: "ffffffff-ffff-ffff-ffff-ffffffffffff") == .unknown)

            try await store.closeSession(key: session.key)
            let before = try test.inspector.tableCounts()
            test.clock.advance(by: .milliseconds(60_000))
            #expect(try await store.touch(key: session.key) == .closed)
            #expect(try test.inspector.tableCounts() == before)
            #expect(try test.timing(key: session.key)?.expireAt == nil)
        }
    }

    @Test(arguments: Backend.all)
    func closeEndsTheSessionOnceAndIsIdempotent(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada", sessionId: "s1", dataSource: "ds")
            #expect(try test.inspector.integer("live", of: "live_session_counts", where: ["scope": "user", "name": "ada"]) == 1)

            test.clock.advance(by: .milliseconds(1_000))
            let closing = try await store.closeSession(key: session.key, reason: "bye")
            #expect(closing.closedByThisCall)
            let closed = closing.session
            #expect(closed.key == session.key)
            #expect(closed.state == .closed)
            #expect(closed.endedAt?.milliseconds == StoreFixture.start + 1_000)
            #expect(closed.endReason == "bye")
            #expect(closed.expireAt == nil)

            test.clock.advance(by: .milliseconds(1_000))
            let again = try await store.closeSession(key: session.key, reason: "second")
            #expect(again.session == closed)
            #expect(!again.closedByThisCall)

            #expect(try test.eventCount(kind: EventKind.sessionEnded, key: session.key) == 1)
            #expect(try test.eventCount(kind: EventKind.sessionEnded) == 1)
            let ended = try await store.listEvents(filter: EventFilter(sessionKey: session.key, kind: EventKind.sessionEnded))
            #expect(ended.map(\.payload) == [["state": "closed", "reason": "bye"]])
            #expect(
                try test.inspector.count(
                    "sessions",
                    where: [
                        "key": .text(session.key), "state": "closed", "ended_at": .integer(StoreFixture.start + 1_000),
                        "end_reason": "bye",
                    ]) == 1)
            // A count that falls to 0 leaves no row.
            #expect(try test.inspector.count("live_session_counts", where: ["scope": "user", "name": "ada"]) == 0)
            #expect(try test.inspector.count("live_session_counts", where: ["scope": "total", "name": ""]) == 0)

            await expectError(SessionStoreError.Code.sessionNotFound) {
                try await store.closeSession(key: UUID().uuidString)
            }
        }
    }

    @Test(arguments: Backend.all)
    func changesToAnEndedSessionAreRefused(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada", details: ["a": "1"])
            try await store.closeSession(key: session.key)
            let before = try test.inspector.tableCounts()
            await expectError(SessionStoreError.Code.sessionClosed) { try await store.updateDetails(key: session.key, ["a": "2"]) }
            await expectError(SessionStoreError.Code.sessionClosed) { try await store.removeDetails(key: session.key, names: ["a"]) }
            await expectError(SessionStoreError.Code.sessionClosed) { try await store.setConfig(key: session.key, ["c": "1"]) }
            await expectError(SessionStoreError.Code.sessionClosed) { try await store.updateIdentifier(key: session.key, "x") }
            let unknown = UUID().uuidString
            await expectError(SessionStoreError.Code.sessionNotFound) { try await store.updateDetails(key: unknown, ["a": "2"]) }
            await expectError(SessionStoreError.Code.sessionNotFound) { try await store.sessionStatistics(key: unknown) }
            #expect(try test.inspector.tableCounts() == before)
            #expect(try await store.session(key: session.key)?.details == ["a": "1"])
        }
    }

    // MARK: Listing

    @Test(arguments: Backend.all)
    func listSessionsFiltersByStateUserAndDataSourceAndPages(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let a1 = try await store.openSession(userId: "ada", dataSource: "x")
            let a2 = try await store.openSession(userId: "ada", dataSource: "y")
            let b1 = try await store.openSession(userId: "bob", dataSource: "x")
            let b2 = try await store.openSession(userId: "bob", dataSource: "x")
            let a3 = try await store.openSession(userId: "ada", dataSource: "x")
            try await store.closeSession(key: b2.key)

            func keys(_ filter: SessionFilter) async throws -> [String] {
                try await store.listSessions(filter).map(\.key)
            }
            #expect(try await keys(SessionFilter()) == [a1.key, a2.key, b1.key, a3.key])
            #expect(try await keys(SessionFilter(states: .live)) == [a1.key, a2.key, b1.key, a3.key])
            #expect(try await keys(SessionFilter(states: .ended)) == [b2.key])
            #expect(try await keys(SessionFilter(states: .all)) == [a1.key, a2.key, b1.key, b2.key, a3.key])
            #expect(try await keys(SessionFilter(states: .only(.closed))) == [b2.key])
            #expect(try await keys(SessionFilter(states: .only(.idle))) == [a1.key, a2.key, b1.key, a3.key])
            #expect(try await keys(SessionFilter(states: .only(.expired))) == [])
            #expect(try await keys(SessionFilter(userId: "ada")) == [a1.key, a2.key, a3.key])
            #expect(try await keys(SessionFilter(states: .all, userId: "bob")) == [b1.key, b2.key])
            #expect(try await keys(SessionFilter(dataSource: "x")) == [a1.key, b1.key, a3.key])
            #expect(try await keys(SessionFilter(states: .all, userId: "bob", dataSource: "x")) == [b1.key, b2.key])
            #expect(try await keys(SessionFilter(userId: "nobody")) == [])
            #expect(try await keys(SessionFilter(limit: 2)) == [a1.key, a2.key])

            // Paging with `after`: every live session once, in order.
            var pages: [[String]] = []
            var after: String?
            while true {
                let page = try await keys(SessionFilter(states: .all, limit: 2, after: after))
                if page.isEmpty { break }
                pages.append(page)
                after = page.last
            }
            #expect(pages == [[a1.key, a2.key], [b1.key, b2.key], [a3.key]])
            #expect(try await keys(SessionFilter(states: .live, userId: "ada", limit: 1, after: a1.key)) == [a2.key])
            #expect(try await keys(SessionFilter(after: a1.key.uppercased())) == [a2.key, b1.key, a3.key])

            // Listed sessions carry their details, config and links.
            let listed = try await store.listSessions(SessionFilter(states: .all))
            for session in listed {
                #expect(try await store.session(key: session.key) == session)
            }

            await expectError(SessionStoreError.Code.sessionNotFound) {
                try await store.listSessions(SessionFilter(after: UUID().uuidString))
            }
            await expectError(SessionStoreError.Code.handleFormat) {
                try await store.listSessions(SessionFilter(after: "page-2"))
            }
        }
    }

    @Test(arguments: Backend.all)
    func currentSessionsListsOnlyLiveSessionsOfTheDataSource(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let x1 = try await store.openSession(userId: "ada", dataSource: "x")
            let x2 = try await store.openSession(userId: "bob", dataSource: "x")
            _ = try await store.openSession(userId: "ada", dataSource: "y")
            let x3 = try await store.openSession(userId: "cy", dataSource: "x")
            #expect(try await store.listCurrentSessions(dataSource: "x").map(\.key) == [x1.key, x2.key, x3.key])

            try await store.closeSession(key: x2.key)
            let current = try await store.listCurrentSessions(dataSource: "x")
            #expect(current.map(\.key) == [x1.key, x3.key])
            #expect(current.allSatisfy { $0.isLive })
            #expect(try await store.listCurrentSessions(dataSource: "x", limit: 1).map(\.key) == [x1.key])
            #expect(try await store.listCurrentSessions(dataSource: "nothing-here") == [])

            try await store.closeSession(key: x1.key)
            try await store.closeSession(key: x3.key)
            #expect(try await store.listCurrentSessions(dataSource: "x") == [])
        }
    }

    // MARK: Events and statistics

    @Test(arguments: Backend.all)
    func eventsAreOrderedPagedAndFiltered(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let s1 = try await store.openSession(userId: "ada", dataSource: "x")
            test.clock.advance(by: .milliseconds(10))
            try await store.updateDetails(key: s1.key, ["b": "2", "a": "1"])
            test.clock.advance(by: .milliseconds(10))
            try await store.closeSession(key: s1.key, reason: "done")
            let s2 = try await store.openSession(userId: "bob", dataSource: "y")

            let all = try await store.listEvents()
            #expect(
                all.map(\.kind) == [
                    EventKind.sessionStarted, EventKind.detailsUpdated, EventKind.sessionEnded, EventKind.sessionStarted,
                ])
            #expect(all.map(\.sessionKey) == [s1.key, s1.key, s1.key, s2.key])
            #expect(all.map(\.userId) == ["ada", "ada", "ada", "bob"])
            #expect(all.map(\.dataSource) == ["x", "x", "x", "y"])
            #expect(all.map(\.at.milliseconds) == [StoreFixture.start, StoreFixture.start + 10, StoreFixture.start + 20, StoreFixture.start + 20])
            #expect(zip(all, all.dropFirst()).allSatisfy { $0.seq < $1.seq })
            #expect(all[1].payload == ["names": "a,b"])
            #expect(try test.inspector.count("events") == Int64(all.count))

            #expect(try await store.listEvents(after: all[1].seq) == Array(all[2...]))
            #expect(try await store.listEvents(after: all[0].seq, limit: 2) == [all[1], all[2]])
            #expect(try await store.listEvents(after: all[3].seq) == [])
            #expect(try await store.listEvents(filter: EventFilter(sessionKey: s1.key)) == Array(all[0...2]))
            #expect(try await store.listEvents(filter: EventFilter(sessionKey: s1.key.uppercased())) == Array(all[0...2]))
            #expect(try await store.listEvents(filter: EventFilter(kind: EventKind.sessionStarted)) == [all[0], all[3]])
            #expect(
                try await store.listEvents(after: all[0].seq, filter: EventFilter(kind: EventKind.sessionStarted)) == [all[3]])
            #expect(
                try await store.listEvents(filter: EventFilter(sessionKey: s2.key, kind: EventKind.sessionStarted)) == [all[3]])
            #expect(
                try await store.listEvents(filter: EventFilter(sessionKey: s2.key, kind: EventKind.sessionEnded)) == [])
            await expectError("INVALID_ARGUMENT.LIMIT") { try await store.listEvents(limit: 0) }
            await expectError(SessionStoreError.Code.handleFormat) {
                try await store.listEvents(filter: EventFilter(sessionKey: "nope"))
            }
        }
    }

    @Test(arguments: Backend.all)
    func statisticsReportDurationAndConfigChanges(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada", config: ["a": "1"])
            var statistics = try await store.sessionStatistics(key: session.key)
            #expect(statistics.key == session.key)
            #expect(statistics.duration == .milliseconds(0))
            #expect(statistics.configChanges == 1)

            test.clock.advance(by: .milliseconds(5_000))
            try await store.setConfig(key: session.key, ["a": "1", "b": "2"])
            try await store.setConfig(key: session.key, ["a": "3"])
            statistics = try await store.sessionStatistics(key: session.key.uppercased())
            #expect(statistics.key == session.key)
            #expect(statistics.duration == .milliseconds(5_000))
            #expect(statistics.configChanges == 3)

            test.clock.advance(by: .milliseconds(1_000))
            try await store.closeSession(key: session.key)
            test.clock.advance(by: .milliseconds(60_000))
            statistics = try await store.sessionStatistics(key: session.key)
            #expect(statistics.duration == .milliseconds(6_000))
            #expect(statistics.configChanges == 3)
            #expect(try test.inspector.integer("config_changes", of: "sessions", where: ["key": .text(session.key)]) == 3)
        }
    }
}
