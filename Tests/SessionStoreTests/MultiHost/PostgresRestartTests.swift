import Foundation
import SessionStorePostgres
import Synchronization
import Testing

/// PostgreSQL restarts under load (`pg_ctl restart -m fast`): calls in flight fail with
/// `STORAGE.UNAVAILABLE` while it is down, the stores reconnect by themselves, nothing
/// acknowledged is lost, and a subscriber on another host sees every event once.
@Suite struct PostgresRestartTests {
    /// A call of the load and the phase of the restart it ended in.
    struct Outcome: Sendable {
        enum Phase: Int, Sendable { case before, restarting, after }
        let phase: Phase
        let key: String?
        let code: String?
    }

    /// What the load task and the test share.
    final class LoadState: Sendable {
        let phase = Atomic<Int>(Outcome.Phase.before.rawValue)
        let stop = Atomic<Bool>(false)
        let outcomes = Mutex<[Outcome]>([])
        let delivered = Mutex<[StoreEvent]>([])

        func acknowledged(_ wanted: Outcome.Phase) -> Int {
            outcomes.withLock { $0.filter { $0.phase == wanted && $0.key != nil }.count }
        }
    }

    @Test func aRestartUnderLoadFailsOnlyTheCallsOfTheOutageAndLosesNothing() async throws {
        let server = try await PostgresServer.dedicated()
        let schema = try server.makeSchema()
        try await Self.loadThrough(
            "pg_ctl restart -m fast", conninfo: server.conninfo(schema: schema), schema: schema, after: server
        ) {
            try await server.restart()
        }
    }

    /// A primary with a synchronous hot standby; the stores name both servers and ask for
    /// the writable one (libpq's `target_session_attrs=read-write`). The primary is killed
    /// and the standby promoted under the load: the calls of the switch fail with
    /// `STORAGE.UNAVAILABLE`, the stores find the new primary by themselves, and nothing
    /// acknowledged is lost.
    @Test func aFailoverToAPromotedStandbyNeedsNoRestartOfTheStores() async throws {
        let primary = try await PostgresServer.dedicated()
        let schema = try primary.makeSchema()
        let standby = try await primary.standby()
        let conninfo =
            "host=127.0.0.1,127.0.0.1 port=\(primary.port),\(standby.port) user=postgres dbname=postgres "
            + "target_session_attrs=read-write options='-c search_path=\(schema)'"
        try await Self.loadThrough("failover", conninfo: conninfo, schema: schema, after: standby) {
            try await primary.kill()
            try await Task.sleep(for: .milliseconds(500))
            try await standby.promote()
        }
    }

    /// Runs opens on host A with a subscriber on host B through `outage`, then checks what
    /// both saw against the log of `server`, the one that serves after it.
    static func loadThrough(
        _ name: String, conninfo: String, schema: String, after server: PostgresServer, outage: () async throws -> Void
    ) async throws {
        func host(_ name: String) async throws -> SessionStore {
            var configuration = SessionStoreConfiguration()
            configuration.instanceHost = name
            configuration.heartbeatInterval = .milliseconds(200)
            return try await SessionStore.open(postgres: conninfo, configuration: configuration)
        }
        let writer = try await host("host-a")
        let watcher = try await host("host-b")
        let start = try await watcher.latestEventSeq()

        // The subscriber on host B.
        let state = LoadState()
        let following = Task {
            for try await event in watcher.events(from: start, pollInterval: .milliseconds(20)) {
                state.delivered.withLock { $0.append(event) }
            }
        }

        // The load on host A: opens, one after another, each outcome with its phase.
        let load = Task {
            var index = 0
            while !state.stop.load(ordering: .relaxed) {
                index += 1
                let current = Outcome.Phase(rawValue: state.phase.load(ordering: .relaxed)) ?? .after
                do {
                    let session = try await writer.openSession(userId: "user-\(index % 7)", timeout: .after(.seconds(3600)))
                    state.outcomes.withLock { $0.append(Outcome(phase: current, key: session.key, code: nil)) }
                } catch let error as SessionStoreError {
                    state.outcomes.withLock { $0.append(Outcome(phase: current, key: nil, code: error.code.rawValue)) }
                    try? await Task.sleep(for: .milliseconds(20))
                } catch {
                    state.outcomes.withLock { $0.append(Outcome(phase: current, key: nil, code: "\(error)")) }
                }
            }
        }
        #expect(await NotificationFollowerTests.eventually(within: .seconds(180)) { state.acknowledged(.before) >= 50 })
        state.phase.store(Outcome.Phase.restarting.rawValue, ordering: .relaxed)
        try await outage()
        state.phase.store(Outcome.Phase.after.rawValue, ordering: .relaxed)
        let recovered = await NotificationFollowerTests.eventually(within: .seconds(180)) { state.acknowledged(.after) >= 50 }
        state.stop.store(true, ordering: .relaxed)
        await load.value
        let all = state.outcomes.withLock { $0 }
        #expect(recovered, "the load did not recover by itself: \(all.suffix(5).map { $0.code ?? "ok" })")

        // Failures: STORAGE.UNAVAILABLE only, none before the outage, and after it only
        // until the first call that succeeds.
        let failures = all.filter { $0.code != nil }
        #expect(failures.allSatisfy { $0.code == SessionStoreError.Code.storageUnavailable.rawValue }, "\(failures.map { $0.code ?? "" })")
        #expect(!failures.contains { $0.phase == .before })
        let afterRestart = all.filter { $0.phase == .after }
        if let firstSuccess = afterRestart.firstIndex(where: { $0.key != nil }) {
            #expect(!afterRestart[firstSuccess...].contains { $0.code != nil }, "a failure after the store had recovered")
        }
        print(
            "PostgresRestartTests \(name): \(all.count) opens, \(failures.count) failed with STORAGE.UNAVAILABLE "
                + "(\(failures.filter { $0.phase == .restarting }.count) during the outage, \(failures.filter { $0.phase == .after }.count) after it)")

        // Nothing acknowledged is lost.
        let keys = Set(all.compactMap(\.key))
        let stored = try Set(
            SharedConnection.of(server.adminConninfo).use {
                try $0.fetchAll(sql: "SELECT key FROM \(schema).sessions") { $0.string(0) }
            })
        #expect(keys.subtracting(stored).isEmpty, "acknowledged but missing: \(keys.subtracting(stored).prefix(5))")

        // The subscriber on host B delivered every event of the log once, in order.
        let logged = try SharedConnection.of(server.adminConninfo).use {
            try $0.fetchAll(sql: "SELECT seq FROM \(schema).events WHERE seq > ? ORDER BY seq", [.integer(start)]) { $0.int64(0) }
        }
        let caughtUp = await NotificationFollowerTests.eventually(within: .seconds(60)) {
            state.delivered.withLock { $0.last?.seq ?? 0 } >= (logged.last ?? 0)
        }
        following.cancel()
        let seqs = state.delivered.withLock { $0.map(\.seq) }
        #expect(caughtUp, "the subscriber stopped at \(seqs.last ?? 0) of \(logged.last ?? 0)")
        #expect(seqs == logged, "delivered \(seqs.count) events, the log has \(logged.count); repeats: \(seqs.count - Set(seqs).count)")
        let started = state.delivered.withLock { $0.filter { $0.kind == EventKind.sessionStarted }.compactMap(\.sessionKey) }
        #expect(keys.subtracting(started).isEmpty, "acknowledged opens whose start the subscriber missed")

        // The sweeper's pass, the liveness check and the heartbeats work again.
        _ = try await ExpirySweeper(store: watcher).runPass()
        let heartbeat = {
            try SharedConnection.of(server.adminConninfo).use {
                try $0.fetchInt64(sql: "SELECT heartbeat_at FROM \(schema).instances WHERE host = 'host-a'")
            } ?? 0
        }
        let beat = try heartbeat()
        #expect(await NotificationFollowerTests.eventually(within: .seconds(30)) { ((try? heartbeat()) ?? 0) > beat }, "host A's heartbeats stopped")
        await writer.close()
        await watcher.close()
    }
}
