import Foundation
import SessionStore
import Testing

/// `event_totals`, kept by a trigger: a detail for the kinds whose detail metrics read,
/// and one row per kind for the rest. (That a SQLite file of migration 5 keeps its totals
/// is `EventTotalsSQLiteTests`'.)
@Suite("Event totals")
struct EventTotalsTests {
    /// `kind/detail` to `total`, summed over rows with the same name; a row whose
    /// columns are not text, text and an integer fails the call.
    private static func totals(_ test: StoreFixture) throws -> [String: Int64] {
        let rows = try test.inspector.rows(["kind", "detail", "total"], of: "event_totals", where: [:], orderedBy: nil).map { row in
            let kind = try #require(row[0].text, "event_totals row \(row)")
            let detail = try #require(row[1].text, "event_totals row \(row)")
            let total = try #require(row[2].integer, "event_totals row \(row)")
            return ("\(kind)/\(detail)", total)
        }
        return Dictionary(rows, uniquingKeysWith: +)
    }

    @Test(arguments: Backend.all)
    func totalsCountEachKindAndTheDetailOfEndedRefusedAndStatusEvents(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
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
        let logged = try test.inspector.count("events")
        #expect(totals.values.reduce(0, +) == logged)
        #expect(totals.keys.filter { $0.hasPrefix("session.config_changed/") } == ["session.config_changed/"])
    }
}
