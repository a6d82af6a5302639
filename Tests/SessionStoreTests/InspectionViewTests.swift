import Foundation
import SessionStore
import Testing

/// The views an operator reads with `sqlite3` answer what they are asked: no view cuts the
/// rows a `WHERE` would find, and `live_sessions.expires` is never blank.
@Suite struct InspectionViewTests {
    @Test
    func recentEventsHoldsEveryEventNewestFirst() async throws {
        let test = TestStore(start: TestStore.realTime())
        try await test.withStore { store in
            for index in 0..<150 {
                let session = try await store.openSession(userId: "u\(index)", dataSource: "warehouse")
                try await store.closeSession(key: session.key)
            }
        }
        let started = try await SQLiteShell.rows(test.path, "SELECT count(*) FROM recent_events WHERE kind = 'session.started'")
        #expect(started == ["150"])
        let total = try await SQLiteShell.rows(test.path, "SELECT count(*) FROM recent_events")
        #expect(total == [String(try test.count("SELECT count(*) FROM events"))])
        let newest = try await SQLiteShell.rows(test.path, "SELECT seq FROM recent_events LIMIT 2")
        let last = try test.count("SELECT max(seq) FROM events")
        #expect(newest == [String(last), String(last - 1)])
    }

    @Test
    func aSuspendedSessionSaysSinceWhenAndOneWithoutATimeoutSaysNever() async throws {
        let test = TestStore(start: TestStore.realTime())
        let stoppedAt = test.start + 5_000
        let (suspended, forever) = try await test.withStore { store in
            try await store.beginServing()
            let suspended = try await store.openSession(userId: "ada", dataSource: "warehouse", timeout: .after(.seconds(600)))
            let forever = try await store.openSession(userId: "bob", dataSource: "warehouse", timeout: .never)
            test.clock.set(stoppedAt)
            return (suspended.key, forever.key)
        }
        // The serving process stopped cleanly and nothing has opened the file since.
        let rows = try await SQLiteShell.rows(test.path, "SELECT key, expires FROM live_sessions ORDER BY user_id")
        #expect(rows == ["\(suspended)|suspended since \(Timestamp(milliseconds: stoppedAt).iso8601)", "\(forever)|never"])
    }
}
