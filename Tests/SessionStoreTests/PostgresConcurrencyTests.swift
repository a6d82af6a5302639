import Foundation
import SessionStore
import SessionStorePostgres
import Synchronization
import Testing

/// The isolation contract on PostgreSQL with several processes and several connections:
/// limits stay exact, a link cycle cannot form, and the event log commits in sequence
/// order, so a follower on another connection delivers every event once, in commit order.
@Suite struct PostgresConcurrencyTests {
    /// One schema on the private server, and a URI for `sessionctl --db`.
    struct Place {
        let server: PostgresServer
        let schema: String
        var uri: String { server.uri(schema: schema) }
        var conninfo: String { server.conninfo(schema: schema) }
        var inspector: PostgresInspector { PostgresInspector(conninfo: conninfo) }

        static func make() async throws -> Place {
            let server = try await PostgresServer.shared()
            return Place(server: server, schema: try server.makeSchema())
        }
    }

    /// JSON lines of a `load` run's stdout or stderr.
    static func lines(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap { line in
            try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        }
    }

    @Test func fiftyOpensFromFiveProcessesStopExactlyAtTheUserLimit() async throws {
        let place = try await Place.make()
        let results = try await withThrowingTaskGroup(of: CommandResult.self) { group in
            for process in 0..<5 {
                group.addTask {
                    try await Sessionctl.run([
                        "load", "--db", place.uri, "--sessions", "10", "--concurrency", "10", "--executions", "0",
                        "--user", "alice", "--keep-open", "--seed", "\(process + 1)", "--json",
                        "--set", "max-sessions-per-user=10",
                    ])
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.map(\.status) == [0, 0, 0, 0, 0], "\(results.map(\.stderr))")
        let opened = results.flatMap { Self.lines($0.stdout) }.filter { $0["op"] as? String == "open" }
        let refused = results.flatMap { Self.lines($0.stderr) }.filter { $0["op"] as? String == "error" }
        #expect(opened.count == 10, "\(opened.count) opens acknowledged")
        #expect(refused.count == 40, "\(refused.count) refusals")
        #expect(refused.allSatisfy { $0["code"] as? String == "LIMIT_EXCEEDED.SESSIONS_PER_USER" }, "\(refused.prefix(3))")
        let inspector = place.inspector
        #expect(try inspector.count("sessions", where: ["user_id": "alice"]) == 10)
        #expect(try inspector.count("events", where: ["kind": "session.refused", "user_id": "alice"]) == 40)
        #expect(try inspector.count("events", where: ["kind": "session.started", "user_id": "alice"]) == 10)
        #expect(try inspector.value("live", of: "live_session_counts", where: ["scope": "user", "name": "alice"]) == 10)
    }

    @Test func twoProcessesLinkingBothWaysMakeOneLink() async throws {
        let place = try await Place.make()
        let pairs = 8
        var keys: [(String, String)] = []
        let store = try await SessionStore.open(postgres: place.conninfo)
        try await store.closing(after: { store in
            for index in 0..<pairs {
                let first = try await store.openSession(userId: "u\(index)").key
                let second = try await store.openSession(userId: "u\(index)").key
                keys.append((first, second))
            }
        })
        let results = try await withThrowingTaskGroup(of: (Int, Bool, CommandResult).self) { group in
            for (index, pair) in keys.enumerated() {
                for forward in [true, false] {
                    let (parent, child) = forward ? pair : (pair.1, pair.0)
                    group.addTask {
                        (index, forward, try await Sessionctl.run(["link", parent, child, "--db", place.uri, "--json"]))
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let inspector = place.inspector
        for (index, pair) in keys.enumerated() {
            let outcomes = results.filter { $0.0 == index }.map(\.2)
            #expect(outcomes.filter { $0.status == 0 }.count == 1, "pair \(index): \(outcomes.map(\.stderr))")
            let refusals = outcomes.compactMap { $0.error()?.code }
            #expect(refusals == ["INVALID_ARGUMENT.LINK_CYCLE"], "pair \(index): \(refusals)")
            let ids = try [pair.0, pair.1].map { key in
                try #require(try inspector.value("id", of: "sessions", where: ["key": .text(key)])?.integer)
            }
            let links = try inspector.count("session_links", where: ["parent_id": .integer(ids[0]), "child_id": .integer(ids[1])])
                + inspector.count("session_links", where: ["parent_id": .integer(ids[1]), "child_id": .integer(ids[0])])
            #expect(links == 1, "pair \(index): \(links) links")
        }
    }

    /// A writer holds a sequence number uncommitted while a second writer, another host's
    /// connection, tries to append: the second waits for the first's commit, so no
    /// number can commit below one already delivered. A follower on a third connection
    /// delivers both events once, in commit order.
    @Test func aFollowerDeliversEveryEventOnceInCommitOrder() async throws {
        let place = try await Place.make()
        let configuration = SessionStoreConfiguration()
        let follower = try await SessionStore.open(postgres: place.conninfo, configuration: configuration)
        try await follower.closing(after: { follower in
            let first = try await PostgresBackend.open(conninfo: place.conninfo, configuration: configuration)
            let second = try await PostgresBackend.open(conninfo: place.conninfo, configuration: configuration)
            let start = try await follower.latestEventSeq()
            let delivered = Mutex<[StoreEvent]>([])
            let following = Task {
                for try await event in follower.events(from: start, kinds: [EventKind.sessionStarted]) {
                    delivered.withLock { $0.append(event) }
                }
            }
            let release = DispatchSemaphore(value: 0)
            let held = DispatchSemaphore(value: 0)
            let lower = Task {
                try await first.write { tx in
                    try tx.events.append(at: tx.now, kind: EventKind.sessionStarted, subject: EventSubject(sessionKey: "lower"), payloadJSON: "{}")
                    held.signal()
                    release.wait()
                }
            }
            await Self.wait(for: held)
            let higher = Task {
                try await second.write { tx in
                    try tx.events.append(at: tx.now, kind: EventKind.sessionStarted, subject: EventSubject(sessionKey: "higher"), payloadJSON: "{}")
                }
            }
            // The second writer waits on the store's write lock; nothing is delivered.
            let admin = try PGConnection(conninfo: place.server.adminConninfo)
            #expect(
                await NotificationFollowerTests.eventually {
                    ((try? admin.fetchInt64(sql: "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")) ?? 0) >= 1
                }, "the second writer never waited")
            try await Task.sleep(for: .milliseconds(200))
            #expect(delivered.withLock { $0.isEmpty })
            release.signal()
            try await lower.value
            try await higher.value
            #expect(await NotificationFollowerTests.eventually { delivered.withLock { $0.count } >= 2 })
            try await Task.sleep(for: .milliseconds(200))
            following.cancel()
            let events = delivered.withLock { $0 }
            #expect(events.map(\.sessionKey) == ["lower", "higher"])
            #expect(events.map(\.seq) == events.map(\.seq).sorted() && Set(events.map(\.seq)).count == events.count)
            await first.close()
            await second.close()
        })
    }

    private static func wait(for semaphore: DispatchSemaphore) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                semaphore.wait()
                continuation.resume()
            }
        }
    }
}
