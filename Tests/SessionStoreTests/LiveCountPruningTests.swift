import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

/// A live count that falls to 0 leaves no row in `live_session_counts`, so a data source,
/// user or address whose sessions all ended leaves nothing behind: no row, no metrics
/// series.
@Suite struct LiveCountPruningTests {
    private static func rows(_ test: TestStore, like pattern: String) throws -> [String] {
        try test.inspect { db in
            try db.fetchAll(
                sql: "SELECT scope || ':' || name FROM live_session_counts WHERE name LIKE ? ORDER BY scope, name",
                [.text(pattern)]
            ) { $0.string(0).replacingOccurrences(of: "\t", with: "/") }
        }
    }

    @Test func rowsVanishWhenTheLastSessionOfADataSourceEnds() async throws {
        // On the real clock: `sessionctl metrics` reads the file on it.
        let test = TestStore(start: TestStore.realTime())
        try await test.withStore { store in
            var request = OpenSessionRequest(userId: "mallory")
            request.dataSource = "scratch"
            request.clientAddress = "10.9.9.9"
            let first = try await store.openSession(request)
            let second = try await store.openSession(request)
            _ = try await store.openSession(userId: "ada")
            #expect(
                try Self.rows(test, like: "%scratch%") == ["data_source:scratch", "data_source_state:scratch/idle"])
            #expect(try Self.rows(test, like: "%mallory%") == ["user:mallory", "user_address:mallory/10.9.9.9"])

            _ = try await store.closeSession(key: first.key)
            #expect(try test.count("SELECT live FROM live_session_counts WHERE scope = 'data_source' AND name = 'scratch'") == 1)
            _ = try await store.closeSession(key: second.key)
            #expect(try Self.rows(test, like: "%scratch%").isEmpty)
            #expect(try Self.rows(test, like: "%mallory%").isEmpty)
            #expect(try Self.rows(test, like: "10.9.9.9").isEmpty)
            // The other data source keeps its rows, and the total its own.
            #expect(try test.count("SELECT live FROM live_session_counts WHERE scope = 'total'") == 1)
            #expect(try await store.metricsSnapshot().sessions.map(\.dataSource) == ["default"])
        }
        let metrics = try await Sessionctl.run(["metrics", "--db", test.path])
        #expect(metrics.status == 0, "\(metrics.stderr)")
        #expect(metrics.stdout.contains("data_source=\"default\""))
        #expect(!metrics.stdout.contains("scratch"), "\(metrics.stdout)")
    }

    @Test func aStateThatEmptiesLosesItsRow() async throws {
        let test = TestStore()
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada")
            _ = try await store.createExecution(key: session.key)
            #expect(try Self.rows(test, like: "default%") == ["data_source:default", "data_source_state:default/active"])
            _ = try await store.interruptAll(key: session.key)
            #expect(try Self.rows(test, like: "default%") == ["data_source:default", "data_source_state:default/idle"])
            _ = try await store.closeSession(key: session.key)
            #expect(try test.count("SELECT count(*) FROM live_session_counts") == 0)
            // Limits read a missing row as 0.
            _ = try await store.openSession(userId: "ada")
            #expect(try test.count("SELECT live FROM live_session_counts WHERE scope = 'user' AND name = 'ada'") == 1)
        }
    }

    @Test func expiredSessionsLeaveNoRowsAndLimitsStillCount() async throws {
        let test = TestStore()
        try await test.withStore {
            $0.limits.maxSessionsPerDataSource = 1
        } body: { store in
            _ = try await store.openSession(userId: "ada", dataSource: "lake", timeout: .after(.seconds(10)))
            await expectError(SessionStoreError.Code.sessionsPerDataSource) {
                try await store.openSession(userId: "bob", dataSource: "lake")
            }
            test.clock.advance(by: .seconds(60))
            _ = try await store.sweep()
            #expect(try Self.rows(test, like: "%lake%").isEmpty)
            _ = try await store.openSession(userId: "bob", dataSource: "lake")
            #expect(try test.count("SELECT live FROM live_session_counts WHERE scope = 'data_source' AND name = 'lake'") == 1)
        }
    }

    @Test func theMigrationDeletesRowsAlreadyAtZero() async throws {
        let test = TestStore()
        do {
            let db = try Database(path: test.path)
            _ = try Migrator(migrations: SessionStore.migrations.filter { $0.version <= 12 }).migrate(db, now: TestStore.start)
            try db.execute(
                sql: """
                    INSERT INTO live_session_counts (scope, name, live)
                    VALUES ('data_source', 'old', 0), ('user', 'gone', 0), ('data_source_state', 'old' || char(9) || 'idle', 0)
                    """)
        }
        try await test.withStore { _ in }
        #expect(try test.count("SELECT count(*) FROM live_session_counts") == 0)
    }

    /// A process that recorded a data source's gauge sets it to 0 and destroys it once the
    /// data source has no live session, so its exporter stops publishing it.
    @Test func aGaugeOfADataSourceThatEmptiedIsDestroyed() async throws {
        let test = TestStore()
        let factory = RecordingMetricsFactory()
        try await test.withStore { $0.metricsFactory = factory } body: { store in
            let session = try await store.openSession(userId: "ada", dataSource: "scratch")
            _ = try await store.openSession(userId: "ada")
            try await store.recordMetricsSnapshot()
            let scratch = ["state": "idle", "data_source": "scratch"]
            #expect(factory.gaugeValue("sessionstore_sessions", scratch) == 1)
            _ = try await store.closeSession(key: session.key)
            try await store.recordMetricsSnapshot()
            #expect(factory.gaugeValue("sessionstore_sessions", scratch) == 0)
            #expect(factory.wasDestroyed("sessionstore_sessions", scratch))
            #expect(!factory.wasDestroyed("sessionstore_sessions", ["state": "idle", "data_source": "default"]))
        }
    }
}
