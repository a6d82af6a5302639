import Foundation
import SessionStore
import Synchronization
import Testing

/// What ending a session does to what it owns (executions, streaming queries, resources)
/// and when the release handler hears of it, on every backend.
@Suite struct ExecutionSessionEndTests {
    typealias Kit = ExecutionTestKit

    /// What the release handler saw, checked through the store's inspector while it ran.
    struct Release: Sendable {
        var resource: OwnedResource
        /// The session's state column at that moment.
        var sessionState: String?
        /// Rows left in `session_resources` for this resource.
        var resourceRows: Int64
        var failure: String?
    }

    /// Collects the handler's calls from whatever thread the store calls it on.
    final class Releases: Sendable {
        private let entries = Mutex<[Release]>([])

        var all: [Release] { entries.withLock { $0 } }

        func handler(inspector: any StoreInspector) -> @Sendable (OwnedResource) -> Void {
            { [self] resource in
                var release = Release(resource: resource, sessionState: nil, resourceRows: -1)
                do {
                    let session: Conditions = ["key": .text(resource.sessionKey)]
                    release.sessionState = try inspector.text("state", of: "sessions", where: session)
                    if let id = try inspector.integer("id", of: "sessions", where: session) {
                        release.resourceRows = try inspector.count(
                            "session_resources",
                            where: ["session_id": .integer(id), "kind": .text(resource.kind), "name": .text(resource.name)])
                    } else {
                        release.resourceRows = 0
                    }
                } catch {
                    release.failure = "\(error)"
                }
                entries.withLock { $0.append(release) }
            }
        }
    }

    /// A session that owned three running executions and a finished one, two active
    /// streaming queries and a stopped one, and four resources, just closed with reason
    /// "done"; a bystander session of the same user owns one of each.
    struct ClosedSession {
        var key: String
        var bystander: String
        /// The executions that were running at the close.
        var running: [String]
        var finished: String
        /// The bystander's execution.
        var elsewhere: String
        var resources: [(kind: String, name: String, bytes: Int64)]
        var closeAt: Int64
        /// The last event sequence number before the close.
        var lastSeq: Int64
    }

    /// Opens a store whose release handler records into `releases`, builds the
    /// ``ClosedSession`` in it, closes the session and runs `body`; the store is closed on
    /// every path.
    static func withClosedSession(
        _ backend: Backend, _ body: (SessionStore, StoreFixture, Releases, ClosedSession) async throws -> Void
    ) async throws {
        let test = try await StoreFixture(backend)
        let releases = Releases()
        try await test.withStore { $0.resourceReleaseHandler = releases.handler(inspector: test.inspector) } body: { store in
            let session = try await store.openSession(userId: "ada")
            let key = session.key
            let bystander = try await store.openSession(userId: "ada")

            // Three running executions in different running statuses.
            let pending = try await store.createExecution(key: key, tags: ["etl"])
            let started = try await store.createExecution(key: key)
            try await store.setExecutionStatus(key: key, operationId: started.operationId, to: .started)
            let ready = try await store.createExecution(key: key, reattachable: true)
            try await Kit.bring(store, session: key, operationId: ready.operationId, to: .readyForExecution)
            try await store.detachExecution(key: key, operationId: ready.operationId)
            let running = [pending.operationId, started.operationId, ready.operationId]
            // One finished: ending the session closes it.
            let finished = try await store.createExecution(key: key)
            try await Kit.bring(store, session: key, operationId: finished.operationId, to: .finished)
            // Another session's execution is not touched.
            let elsewhere = try await store.createExecution(key: bystander.key)

            // Two active streaming queries and one stopped already.
            try await store.registerQuery(key: key, queryId: "q1", runId: "r1", tags: ["etl"])
            try await store.registerQuery(key: key, queryId: "q2", runId: "r2", name: "second")
            try await store.registerQuery(key: key, queryId: "q3", runId: "r3")
            try await store.stopQuery(key: key, queryId: "q3")
            try await store.registerQuery(key: bystander.key, queryId: "q1", runId: "r1")

            // Four resources.
            let resources: [(kind: String, name: String, bytes: Int64)] = [
                ("artifact", "lib.jar", 1000), ("artifact", "model.bin", 2000), ("view", "tmp_sales", 0), ("ephemeral", "/locks/a", 10),
            ]
            for resource in resources {
                try await store.addResource(key: key, kind: resource.kind, name: resource.name, bytes: resource.bytes)
            }
            try await store.addResource(key: bystander.key, kind: "artifact", name: "lib.jar", bytes: 5)
            #expect(releases.all.isEmpty)
            #expect(try test.sessionStateColumn(key: key) == "active")

            test.clock.advance(by: .milliseconds(5_000))
            let closeAt = test.clock.now()
            let lastSeq = try test.lastEventSeq()
            let closed = try await store.closeSession(key: key, reason: "done").session
            #expect(closed.state == .closed)
            #expect(closed.endedAt?.milliseconds == closeAt)

            try await body(
                store, test, releases,
                ClosedSession(
                    key: key, bystander: bystander.key, running: running, finished: finished.operationId,
                    elsewhere: elsewhere.operationId, resources: resources, closeAt: closeAt, lastSeq: lastSeq))
        }
    }

    /// One event of the close, as the inspector reads it.
    struct Event: Equatable {
        var kind: String
        var at: Int64
        var operationId: String?
        var to: String?
        var queryId: String?
        var name: String?
    }

    /// The events written after `seq`, in sequence order.
    static func events(_ test: StoreFixture, after seq: Int64) throws -> [Event] {
        try test.loggedEvents().filter { $0.seq > seq }.map {
            Event(
                kind: $0.kind, at: $0.at, operationId: $0.operationId, to: $0.payload["to"], queryId: $0.payload["queryId"],
                name: $0.payload["name"])
        }
    }

    /// Every execution of the session ends `closed` at the close, the running ones
    /// canceled on the way; other sessions' stay as they are.
    @Test(arguments: Backend.all)
    func closingCancelsTheSessionsRunningExecutionsAndNothingElse(backend: Backend) async throws {
        try await Self.withClosedSession(backend) { store, test, releases, closed in
            let key = closed.key
            let running = closed.running
            let closeAt = closed.closeAt
            // Executions: the running ones canceled then closed, the finished one closed.
            let sessionId = try #require(try test.rowId(key: key))
            let statuses = try test.inspector.values("status", of: "executions", where: ["session_id": .integer(sessionId)])
            #expect(statuses.count == 4)
            #expect(statuses.filter { ["pending", "started", "analyzed", "readyForExecution"].contains($0.text) }.isEmpty)
            for id in running {
                let row = try #require(try test.executionRow(id))
                #expect(row.status == "closed", "\(id)")
                #expect(row.endedAt == closeAt)
                #expect(row.closedAt == closeAt)
            }
            let finished = try #require(try test.executionRow(closed.finished))
            #expect(finished.status == "closed")
            #expect(finished.closedAt == closeAt)
            #expect(finished.endedAt.map { $0 < closeAt } == true)
            #expect(try test.executionRow(closed.elsewhere)?.status == "pending")
            let executions = try await store.listExecutions(key: key)
            #expect(!executions.contains { $0.status.isRunning })
        }
    }

    /// Active streaming queries stop at the close with reason "session closed".
    @Test(arguments: Backend.all)
    func closingStopsTheSessionsActiveQueries(backend: Backend) async throws {
        try await Self.withClosedSession(backend) { store, test, releases, closed in
            let key = closed.key
            let closeAt = closed.closeAt
            // Queries: both active ones stopped at the close.
            let queries = try await store.listQueries(key: key)
            #expect(queries.count == 3)
            #expect(queries.allSatisfy { $0.state == .stopped })
            for query in queries where query.queryId != "q3" {
                #expect(query.stoppedAt?.milliseconds == closeAt)
                #expect(query.stopReason == "session closed")
            }
            #expect(try await store.listActiveQueries(key: key).isEmpty)
            #expect(try await store.listActiveQueries(key: closed.bystander).map(\.queryId) == ["q1"])
        }
    }

    /// The session's resources rows go; the bystander keeps its own.
    @Test(arguments: Backend.all)
    func closingReleasesTheSessionsResources(backend: Backend) async throws {
        try await Self.withClosedSession(backend) { (store, test, _, closed) async throws in
            let key = closed.key
            // Resources: no rows left for the session; the other session keeps its own.
            let sessionId = try #require(try test.rowId(key: key))
            #expect(try test.inspector.count("session_resources", where: ["session_id": .integer(sessionId)]) == 0)
            #expect(try await store.listResources(key: closed.bystander).count == 1)
        }
    }

    /// Exactly the events of the close, all with one `at`: written by one transaction.
    @Test(arguments: Backend.all)
    func closingWritesItsEventsInOneTransaction(backend: Backend) async throws {
        try await Self.withClosedSession(backend) { store, test, releases, closed in
            let running = closed.running
            let resources = closed.resources
            let closeAt = closed.closeAt
            // Events: exactly what the close did, all written by one transaction (one `at`).
            let events = try Self.events(test, after: closed.lastSeq)
            let statusChanges = events.filter { $0.kind == "execution.status_changed" }
            let canceled = statusChanges.filter { $0.to == "canceled" }
            #expect(Set(canceled.compactMap(\.operationId)) == Set(running))
            #expect(canceled.count == 3)
            // Then every one of them closed, the finished one too: the session released them.
            let closedOnes = statusChanges.filter { $0.to == "closed" }
            #expect(Set(closedOnes.compactMap(\.operationId)) == Set(running + [closed.finished]))
            #expect(closedOnes.count == 4)
            #expect(statusChanges.count == 7)
            #expect(events.filter { $0.kind == "streaming_query.stopped" }.compactMap(\.queryId).sorted() == ["q1", "q2"])
            #expect(
                events.filter { $0.kind == "resource.released" }.compactMap(\.name).sorted()
                    == resources.map(\.name).sorted())
            #expect(events.filter { $0.kind == "session.ended" }.count == 1)
            #expect(events.last?.kind == "session.ended")
            let kinds = events.map(\.kind)
            #expect(kinds.count == 14, "\(kinds)")
            #expect(Set(events.map(\.at)) == [closeAt])
            // Ending a session is not an interrupt.
            #expect(!events.contains { $0.kind == "execution.interrupted" })
        }
    }

    /// The release handler runs once per resource, after the close was committed.
    @Test(arguments: Backend.all)
    func theHandlerIsToldOncePerResourceAfterTheCommit(backend: Backend) async throws {
        try await Self.withClosedSession(backend) { store, test, releases, closed in
            let key = closed.key
            let resources = closed.resources
            // The handler: once per resource, after the commit.
            let calls = releases.all
            #expect(calls.count == 4)
            #expect(calls.map(\.resource.name).sorted() == resources.map(\.name).sorted())
            #expect(Set(calls.map { "\($0.resource.kind)/\($0.resource.name)" }).count == 4)
            for call in calls {
                #expect(call.failure == nil, "\(call.failure ?? "")")
                #expect(call.resource.sessionKey == key)
                #expect(call.sessionState == "closed", "the handler ran before the close was committed")
                #expect(call.resourceRows == 0, "the handler ran before the release was committed")
            }
            let bytes = Dictionary(uniqueKeysWithValues: calls.map { ($0.resource.name, $0.resource.bytes) })
            for resource in resources { #expect(bytes[resource.name] == resource.bytes) }
        }
    }

    /// A second close of the ended session writes no event and calls no handler.
    @Test(arguments: Backend.all)
    func closingAgainWritesNothingAndTellsNobody(backend: Backend) async throws {
        try await Self.withClosedSession(backend) { store, test, releases, closed in
            let key = closed.key
            // Closing again writes nothing and tells nobody.
            let eventCount = try test.loggedEventCount()
            try await store.closeSession(key: key)
            #expect(try test.loggedEventCount() == eventCount)
            #expect(releases.all.count == 4)
        }
    }

    @Test(arguments: Backend.all)
    func releasingOneResourceTellsTheHandlerAfterCommit(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        let releases = Releases()
        try await test.withStore { $0.resourceReleaseHandler = releases.handler(inspector: test.inspector) } body: { store in
            let session = try await store.openSession(userId: "ada")
            try await store.addResource(key: session.key, kind: "artifact", name: "a.jar", bytes: 7)
            try await store.addResource(key: session.key, kind: "artifact", name: "b.jar", bytes: 8)
            let released = try await store.releaseResource(key: session.key, kind: "artifact", name: "a.jar")
            #expect(released.bytes == 7)
            let calls = releases.all
            #expect(calls.count == 1)
            #expect(calls.first?.resource.name == "a.jar")
            #expect(calls.first?.resourceRows == 0)
            #expect(calls.first?.sessionState == "idle")
            #expect(try await store.listResources(key: session.key).map(\.name) == ["b.jar"])
            #expect(try test.loggedEventCount(kind: "resource.released") == 1)

            // Releasing what is not owned fails, writes nothing, tells nobody.
            await expectError(SessionStoreError.Code.resourceNotFound) {
                try await store.releaseResource(key: session.key, kind: "artifact", name: "a.jar")
            }
            #expect(releases.all.count == 1)
            #expect(try test.loggedEventCount(kind: "resource.released") == 1)

            try await store.closeSession(key: session.key)
            #expect(releases.all.map(\.resource.name) == ["a.jar", "b.jar"])
        }
    }
}
