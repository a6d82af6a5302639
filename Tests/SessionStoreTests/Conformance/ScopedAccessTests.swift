import Foundation
import SessionStore
import Testing

/// Through `store.acting(as:)` a principal acts only on its own sessions and those the
/// impersonation policy lets it act on: another user's key answers as an unknown key and
/// writes nothing, and no list, tree, event stream, subscription, notification or
/// execution list shows another user's sessions. On every backend.
@Suite struct ScopedAccessTests {
    typealias Kit = ScopedAccessKit

    /// A store where `svc` may act as anyone, with alice's and mallory's holdings.
    static func withHoldings(
        _ test: StoreFixture, _ body: (SessionStore, _ alice: Kit.Holdings, _ mallory: Kit.Holdings) async throws -> Void
    ) async throws {
        try await test.withStore { $0.impersonationPolicy = ProxyUsersImpersonation(proxyUsers: ["svc"]) } body: { store in
            let alice = try await Kit.holdings(store, user: "alice")
            let mallory = try await Kit.holdings(store, user: "mallory")
            try await body(store, alice, mallory)
        }
    }

    /// Every keyed call a client can make, on `key`, through `view`; `own` is a session
    /// of the view's principal for the calls that take two keys. Each answers a
    /// printable outcome.
    static func keyedCalls(
        _ view: ScopedSessionStore, own: String, operationId: String, queryId: String
    ) -> [(name: String, call: @Sendable (String) async throws -> Any?)] {
        [
            ("session", { try await view.session(key: $0) }),
            ("touch", { try await view.touch(key: $0) }),
            ("closeSession", { try await view.closeSession(key: $0) }),
            ("updateDetails", { try await view.updateDetails(key: $0, ["device": "d-9"]) }),
            ("removeDetails", { try await view.removeDetails(key: $0, names: ["device"]) }),
            ("setConfig", { try await view.setConfig(key: $0, ["spark.sql.ansi": "false"]) }),
            ("updateIdentifier", { try await view.updateIdentifier(key: $0, "renamed") }),
            ("addAssociate as parent", { try await view.addAssociate(parentKey: $0, childKey: own) }),
            ("addAssociate as child", { try await view.addAssociate(parentKey: own, childKey: $0) }),
            (
                "openSession with associate",
                {
                    var request = OpenSessionRequest(userId: view.principal ?? "", sessionId: "linked")
                    request.associates = [$0]
                    return try await view.openSession(request)
                }
            ),
            ("listChildren", { try await view.listChildren(key: $0) }),
            ("listParents", { try await view.listParents(key: $0) }),
            ("sessionTree", { try await view.sessionTree(key: $0) }),
            ("sessionStatistics", { try await view.sessionStatistics(key: $0) }),
            ("createExecution", { try await view.createExecution(key: $0) }),
            ("execution", { try await view.execution(key: $0, operationId: operationId) }),
            ("listExecutions", { try await view.listExecutions(key: $0) }),
            ("setExecutionStatus", { try await view.setExecutionStatus(key: $0, operationId: operationId, to: .analyzed) }),
            ("release execution", { try await view.setExecutionStatus(key: $0, operationId: operationId, to: .closed) }),
            ("detachExecution", { try await view.detachExecution(key: $0, operationId: operationId) }),
            ("attachExecution", { try await view.attachExecution(key: $0, operationId: operationId) }),
            ("interrupt operation", { try await view.interrupt(key: $0, operationId: operationId) }),
            ("interrupt tag", { try await view.interrupt(key: $0, tag: "etl") }),
            ("interruptAll", { try await view.interruptAll(key: $0) }),
            ("registerQuery", { try await view.registerQuery(key: $0, queryId: "q-new", runId: "r") }),
            ("query", { try await view.query(key: $0, queryId: queryId) }),
            ("listQueries", { try await view.listQueries(key: $0) }),
            ("listActiveQueries", { try await view.listActiveQueries(key: $0) }),
            ("stopQuery", { try await view.stopQuery(key: $0, queryId: queryId) }),
            ("removeQuery", { try await view.removeQuery(key: $0, queryId: queryId) }),
            ("addResource", { try await view.addResource(key: $0, kind: "view", name: "v-new", bytes: 1) }),
            ("listResources", { try await view.listResources(key: $0) }),
            ("releaseResource", { try await view.releaseResource(key: $0, kind: "view", name: "alice-view") }),
        ]
    }

    @Test(arguments: Backend.all)
    func anotherUsersKeyAnswersAsAnUnknownKeyAndWritesNothing(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await Self.withHoldings(test) { store, alice, mallory in
            let view = try store.acting(as: "mallory")
            let unknown = UUID().uuidString.lowercased()
            let calls = Self.keyedCalls(view, own: mallory.key, operationId: alice.operationId, queryId: alice.queryId)
            let before = try test.tableDump()
            var notFound = 0
            for (name, call) in calls {
                let foreign = await Kit.outcome(key: alice.key) { try await call(alice.key) }
                let missing = await Kit.outcome(key: unknown) { try await call(unknown) }
                #expect(foreign == missing, "\(name): alice's key answered \(foreign), an unknown key \(missing)")
                #expect(!foreign.contains("alice"), "\(name): \(foreign)")
                if foreign.hasPrefix("error: \(SessionStoreError.Code.sessionNotFound.rawValue)") { notFound += 1 }
            }
            // All but the get (nil) and the touch (unknown) are refused as not found.
            #expect(notFound == calls.count - 2)
            #expect(try test.tableDump() == before, "a call on alice's session wrote to the store")

            // Alice's session is as she left it.
            let owner = try store.acting(as: "alice")
            let session = try #require(try await owner.session(key: alice.key))
            #expect(session.isLive)
            #expect(session.config[Kit.secretName] == Kit.secretValue("alice"))
            #expect(session.children == [alice.childKey])
            #expect(try await owner.listResources(key: alice.key).map(\.name) == ["alice-view"])
            #expect(try await owner.execution(key: alice.key, operationId: alice.operationId)?.status == .started)
        }
    }

    @Test(arguments: Backend.all)
    func theOwnerAndAnAllowedProxyActOnTheSession(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await Self.withHoldings(test) { store, alice, mallory in
            for principal in ["alice", "svc"] {
                let view = try store.acting(as: principal)
                let session = try #require(try await view.session(key: alice.key), "\(principal)")
                #expect(session.config[Kit.secretName] == Kit.secretValue("alice"))
                #expect(try await view.touch(key: alice.key) == .live)
                #expect(try await view.listChildren(key: alice.key).map(\.key) == [alice.childKey])
                #expect(try await view.listParents(key: alice.childKey).map(\.key) == [alice.key])
                #expect(try await view.sessionTree(key: alice.key).nodes.map(\.session.key) == [alice.key, alice.childKey])
                #expect(try await view.listExecutions(key: alice.key).map(\.operationId) == [alice.operationId])
                #expect(try await view.listQueries(key: alice.key).map(\.queryId) == [alice.queryId])
                #expect(try await view.setConfig(key: alice.key, ["owner": principal]) == ["owner"])
            }
            let owner = try store.acting(as: "alice")
            #expect(try await owner.isolatedSession(sessionId: "alice-main")?.key == alice.key)
            #expect(try await owner.openIsolatedSession(sessionId: "alice-main").key == alice.key)
            #expect(try await owner.openSession(sessionId: "own", dataSource: "lake").userId == "alice")
            #expect(try await store.acting(as: "mallory").isolatedSession(sessionId: "alice-main") == nil)

            let svc = try store.acting(as: "svc")
            #expect(try await svc.isolatedSession(sessionId: "alice-main", user: "alice")?.key == alice.key)
            let interrupted = try await svc.interrupt(key: alice.key, tag: "etl")
            #expect(interrupted.operationIds == [alice.operationId])
            #expect(interrupted.queryIds == [alice.queryId])
            #expect(try await svc.releaseResource(key: alice.key, kind: "view", name: "alice-view").name == "alice-view")
            let opened = try await svc.openSession(OpenSessionRequest(userId: "alice", sessionId: "by-proxy"))
            #expect(opened.userId == "alice")
            let started = try await store.listEvents(filter: EventFilter(sessionKey: opened.key, kind: EventKind.sessionStarted))
            #expect(started.map { $0.payload["principal"] } == ["svc"])
            #expect(try await svc.listSessions(SessionFilter(userId: "alice")).map(\.key).contains(opened.key))
            #expect(try await svc.listSessions().isEmpty, "svc has no session of its own")
            try await svc.addAssociate(parentKey: alice.key, childKey: mallory.key)
            #expect(try await svc.listChildren(key: alice.key).map(\.key) == [alice.childKey, mallory.key])
            #expect(try await svc.closeSession(key: alice.key).closedByThisCall)
        }
    }

    @Test(arguments: Backend.all)
    func namingAUserThePolicyDoesNotAllowIsDenied(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await Self.withHoldings(test) { store, _, _ in
            let view = try store.acting(as: "mallory")
            let denied = SessionStoreError.Code.impersonationDenied
            await expectError(denied) { try await view.listSessions(SessionFilter(userId: "alice")) }
            await expectError(denied) { try await view.listCurrentSessions(user: "alice") }
            await expectError(denied) { try await view.listEvents(user: "alice") }
            await expectError(denied) { try view.events(from: 0, user: "alice") }
            await expectError(denied) { try view.subscription(named: "feed", user: "alice") }
            await expectError(denied) { try await view.sessionStarts(user: "alice") }
            await expectError(denied) { try await view.listActiveExecutions(user: "alice") }
            await expectError(denied) { try await view.listAbandonedExecutions(user: "alice") }
            await expectError(denied) { try await view.isolatedSession(sessionId: "alice-main", user: "alice") }
            await expectError(denied) { try await view.openIsolatedSession(sessionId: "alice-main", user: "alice") }
            let refusals = try test.eventCount(kind: EventKind.sessionRefused)
            await expectError(denied) { try await view.openSession(OpenSessionRequest(userId: "alice", sessionId: "x")) }
            #expect(try test.eventCount(kind: EventKind.sessionRefused) == refusals + 1)
            #expect(try test.inspector.count("sessions", where: ["client_session_id": "x"]) == 0)
            await expectError(SessionStoreError.Code.invalidUserId) { try store.acting(as: "") }
        }
    }

    @Test(arguments: Backend.all)
    func listsAndTreesShowOnlyThePrincipalsSessions(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await Self.withHoldings(test) { store, alice, mallory in
            // A link made by trusted code puts alice's session under mallory's.
            try await store.addAssociate(parentKey: mallory.key, childKey: alice.key)
            let view = try store.acting(as: "mallory")

            let own = try #require(try await view.session(key: mallory.key))
            #expect(own.children == [mallory.childKey])
            let tree = try await view.sessionTree(key: mallory.key)
            #expect(tree.nodes.map(\.session.key) == [mallory.key, mallory.childKey])
            #expect(tree.edges.map(\.child) == [mallory.childKey])
            #expect(try await view.listChildren(key: mallory.key).map(\.key) == [mallory.childKey])
            let shown: [(String, String)] = [
                ("session", try Kit.json(own)),
                ("tree", try Kit.json(tree)),
                ("children", try Kit.json(try await view.listChildren(key: mallory.key))),
                ("parents", try Kit.json(try await view.listParents(key: mallory.childKey))),
                ("listSessions", try Kit.json(try await view.listSessions(SessionFilter(states: .all)))),
                ("listCurrentSessions", try Kit.json(try await view.listCurrentSessions())),
                ("listEvents", try Kit.json(try await view.listEvents(limit: 10_000))),
            ]
            for (what, text) in shown {
                Kit.expectNone(of: alice.secrets, in: text, what)
                #expect(text.contains(mallory.key), "\(what) lacks mallory's own session: \(text)")
            }
            #expect(try await view.listSessions(SessionFilter(states: .all)).map(\.key) == [mallory.key, mallory.childKey])
            #expect(try await view.listEvents(limit: 10_000).allSatisfy { $0.userId == "mallory" })
            #expect(try await view.listEvents(filter: EventFilter(sessionKey: alice.key)).isEmpty)
            let linked = EventFilter(sessionKey: mallory.key, kind: EventKind.sessionLinked)
            #expect(try await view.listEvents(filter: linked).map { $0.payload["child"] } == [mallory.childKey, nil])
            #expect(try await store.listEvents(filter: linked).map { $0.payload["child"] } == [mallory.childKey, alice.key])

            // The owner's view of the same store shows hers.
            let owner = try store.acting(as: "alice")
            #expect(try await owner.listSessions(SessionFilter(states: .all)).map(\.key) == [alice.key, alice.childKey])
            #expect(try await owner.session(key: alice.key)?.parents == [], "mallory's session is outside alice's view")
            let events = try await owner.listEvents(limit: 10_000)
            #expect(!events.isEmpty && events.allSatisfy { $0.userId == "alice" })
        }
    }

    @Test(arguments: Backend.all)
    func executionListsShowOnlyThePrincipalsExecutions(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await Self.withHoldings(test) { store, alice, mallory in
            let view = try store.acting(as: "mallory")
            guard case .running(let running) = try await view.listActiveExecutions() else {
                Issue.record("mallory's execution is running")
                return
            }
            #expect(running.map(\.operationId) == [mallory.operationId])

            for holdings in [alice, mallory] {
                try await store.detachExecution(key: holdings.key, operationId: holdings.operationId)
            }
            test.clock.advance(by: .seconds(301))
            let report = try await store.runExecutionMaintenance()
            #expect(report.abandonedOperations.count == 2)
            #expect(try await view.listAbandonedExecutions().map(\.operationId) == [mallory.operationId])
            #expect(try await store.acting(as: "alice").listAbandonedExecutions().map(\.operationId) == [alice.operationId])
            guard case .idleSince(let since) = try await view.listActiveExecutions() else {
                Issue.record("no execution of mallory's runs")
                return
            }
            #expect(since != nil)
            let all = try await store.listAbandonedExecutions()
            #expect(Set(all.map(\.operationId)) == [alice.operationId, mallory.operationId], "the unscoped list is unchanged")
        }
    }

    @Test(arguments: Backend.all)
    func streamsAndNotificationsDeliverOnlyThePrincipalsEvents(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await Self.withHoldings(test) { store, _, mallory in
            let view = try store.acting(as: "mallory")
            let start = try await store.latestEventSeq()
            let firstEvents = NotificationKit.collect(2, of: try view.events(from: start))
            let starts = NotificationKit.collect(1, of: try await view.sessionStarts(after: start))
            let stops = NotificationKit.collect(1, of: try await view.sessionStops(after: start))
            let aliceNew = try await store.openSession(userId: "alice", sessionId: "late")
            try await store.closeSession(key: aliceNew.key)
            let malloryNew = try await store.openSession(userId: "mallory", sessionId: "late")
            try await store.closeSession(key: malloryNew.key)

            let events = try #require(try await firstEvents.value)
            #expect(events.map(\.sessionKey) == [malloryNew.key, malloryNew.key])
            #expect(events.map(\.kind) == [EventKind.sessionStarted, EventKind.sessionEnded])
            #expect(try await starts.value?.map(\.sessionKey) == [malloryNew.key])
            #expect(try await stops.value?.map(\.sessionKey) == [malloryNew.key])

            // A read of the past (the consumer catches up on its own) selects by user too:
            // alice's sessions were opened first.
            let replay = try #require(try await NotificationKit.first(1, of: try view.sessionStarts(after: 0)))
            #expect(replay.map(\.sessionKey) == [mallory.key])
            #expect(try await view.latestEventSeq() > start)
        }
    }

    @Test(arguments: Backend.all)
    func durableSubscriptionsAreThePrincipalsOwn(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await Self.withHoldings(test) { store, alice, mallory in
            let aliceFeed = try store.acting(as: "alice").subscription(named: "feed")
            let malloryFeed = try store.acting(as: "mallory").subscription(named: "feed")
            let pending = try await malloryFeed.listPendingEvents(limit: 10_000)
            #expect(!pending.isEmpty && pending.allSatisfy { $0.userId == "mallory" })
            Kit.expectNone(of: alice.secrets, in: try Kit.json(pending), "mallory's subscription")

            let latest = try await store.latestEventSeq()
            try await aliceFeed.acknowledge(through: latest)
            #expect(try await aliceFeed.acknowledgedSeq() == latest)
            #expect(try await malloryFeed.acknowledgedSeq() == 0, "alice's acknowledgement moved mallory's")
            #expect(try await store.subscription(named: "feed").acknowledgedSeq() == 0)
            try await malloryFeed.acknowledge(through: 1)
            #expect(try await aliceFeed.acknowledgedSeq() == latest)

            let streamed = try #require(try await NotificationKit.first(1, of: try await malloryFeed.events()))
            #expect(streamed.map(\.userId) == ["mallory"])

            // Resource releases read through a scoped subscription.
            try await store.releaseResource(key: alice.key, kind: "view", name: "alice-view")
            try await store.releaseResource(key: mallory.key, kind: "view", name: "mallory-view")
            let releases = try store.acting(as: "mallory").resourceReleases(subscription: "artifacts")
            #expect(try await releases.listPending().map(\.sessionKey) == [mallory.key])
            let released = try #require(try await NotificationKit.first(1, of: releases))
            #expect(released.map(\.name) == ["mallory-view"])
        }
    }

    /// `trustedView()` is the unscoped API in the scoped type: it acts on every session,
    /// lists every user unless told one, and shares the unscoped subscriptions.
    @Test(arguments: Backend.all)
    func theTrustedViewActsOnEverySession(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await Self.withHoldings(test) { store, alice, mallory in
            let trusted = store.trustedView()
            #expect(trusted.principal == nil)
            #expect(try await trusted.session(key: alice.key)?.userId == "alice")
            #expect(try await trusted.touch(key: mallory.key) == .live)
            try await trusted.updateDetails(key: alice.key, ["seen-by": "trusted"])
            #expect(try await store.session(key: alice.key)?.details["seen-by"] == "trusted")

            let everyone = try await trusted.listSessions(SessionFilter(limit: 100))
            #expect(Set(everyone.map(\.userId)) == ["alice", "mallory"])
            let onlyAlice = try await trusted.listSessions(SessionFilter(userId: "alice", limit: 100))
            #expect(!onlyAlice.isEmpty && onlyAlice.allSatisfy { $0.userId == "alice" })
            #expect(try await trusted.latestEventSeq() == store.latestEventSeq())

            let latest = try await store.latestEventSeq()
            try await trusted.subscription(named: "feed").acknowledge(through: latest)
            #expect(try await store.subscription(named: "feed").acknowledgedSeq() == latest)
            #expect(try await store.acting(as: "alice").subscription(named: "feed").acknowledgedSeq() == 0)
        }
    }
}
