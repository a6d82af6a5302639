import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

/// `event_totals` across an upgrade of a SQLite file. The behaviour every backend shares
/// is `EventTotalsTests`'.
@Suite("Event totals (SQLite)")
struct EventTotalsSQLiteTests {
    private static func totals(_ test: TestStore) throws -> [String: Int64] {
        try test.inspect { db in
            let rows = try db.fetchAll(sql: "SELECT kind, detail, total FROM event_totals") {
                ("\($0.string(0))/\($0.string(1))", $0.int64(2))
            }
            return Dictionary(rows, uniquingKeysWith: +)
        }
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
