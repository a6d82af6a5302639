import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

/// `event_totals`, kept by a trigger: a detail for the kinds whose detail metrics read,
/// and one row per kind for the rest.
@Suite("Event totals")
struct EventTotalsTests {
    private static func totals(_ test: TestStore) throws -> [String: Int64] {
        try test.inspect { db in
            let rows = try db.fetchAll(sql: "SELECT kind, detail, total FROM event_totals") {
                ("\($0.string(0))/\($0.string(1))", $0.int64(2))
            }
            return Dictionary(rows, uniquingKeysWith: +)
        }
    }

    @Test func totalsCountEachKindAndTheDetailOfEndedRefusedAndStatusEvents() async throws {
        let test = TestStore()
        try await test.withStore { $0.limits.maxSessionsPerUser = 2 } body: { store in
            let first = try await store.openSession(userId: "ada", config: ["state": "x", "code": "y", "to": "z"])
            let second = try await store.openSession(userId: "ada")
            await expectError("LIMIT_EXCEEDED.SESSIONS_PER_USER") {
                try await store.openSession(userId: "ada")
            }
            // Payload fields named like a detail do not make one for other kinds.
            _ = try await store.setConfig(key: first.key, ["state": "changed"])
            let execution = try await store.createExecution(key: first.key)
            try await store.setExecutionStatus(key: first.key, operationId: execution.operationId, to: .started)
            try await store.setExecutionStatus(key: first.key, operationId: execution.operationId, to: .finished)
            _ = try await store.closeSession(key: first.key)
            _ = try await store.closeSession(key: second.key)
        }

        let totals = try Self.totals(test)
        #expect(totals["session.started/"] == 2)
        #expect(totals["session.refused/LIMIT_EXCEEDED.SESSIONS_PER_USER"] == 1)
        #expect(totals["session.config_changed/"] == 1)
        #expect(totals["execution.created/"] == 1)
        #expect(totals["execution.status_changed/started"] == 1)
        #expect(totals["execution.status_changed/finished"] == 1)
        #expect(totals["session.ended/closed"] == 2)
        // Every event is counted once: the totals add up to the log.
        let logged = try test.count("SELECT count(*) FROM events")
        #expect(totals.values.reduce(0, +) == logged)
        #expect(totals.keys.filter { $0.hasPrefix("session.config_changed/") } == ["session.config_changed/"])
    }

    /// A file written before migration 6 keeps its totals and goes on counting into the
    /// same rows.
    @Test func upgradingKeepsTotalsAndCountsOn() async throws {
        let test = TestStore()
        do {
            let db = try Database(path: test.path)
            let earlier = SessionStore.migrations.filter { $0.version <= 5 }
            #expect(earlier.count == 5)
            _ = try Migrator(migrations: earlier).migrate(db, now: TestStore.start)
            for (kind, payload) in [
                ("session.ended", #"{"state":"closed","reason":"closed by client"}"#),
                ("session.ended", #"{"state":"expired","reason":"idle"}"#),
                ("session.started", #"{"type":"default"}"#),
            ] {
                try db.execute(
                    sql: "INSERT INTO events (at, kind, payload) VALUES (?, ?, ?)",
                    [.integer(TestStore.start), .text(kind), .text(payload)])
            }
        }
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada")
            _ = try await store.closeSession(key: session.key)
        }

        let version = try test.count("SELECT max(version) FROM schema_migrations")
        #expect(version == Int64(SessionStore.migrations.map(\.version).max() ?? 0))
        let totals = try Self.totals(test)
        #expect(totals["session.ended/closed"] == 2)
        #expect(totals["session.ended/expired"] == 1)
        #expect(totals["session.started/"] == 2)
    }
}
