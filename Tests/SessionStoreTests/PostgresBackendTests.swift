import Foundation
import SessionStore
import SessionStorePostgres
import Synchronization
import Testing

/// What the PostgreSQL backend shows that the conformance suites do not: its own errors,
/// a lost connection and the way back, a touch that writes nothing, and the inspection
/// views an operator reads with `psql`.
@Suite struct PostgresBackendTests {
    typealias Place = PostgresConcurrencyTests.Place

    @Test func anUnreachableServerIsUnavailableAndNeverShowsThePassword() async throws {
        let port = try PostgresServer.freePort()
        let uri = "postgres://ada:secret-word@127.0.0.1:\(port)/sessions?connect_timeout=2"
        await expectError("STORAGE.UNAVAILABLE") {
            _ = try await SessionStore.open(postgres: uri)
        }
        do {
            _ = try await SessionStore.open(postgres: uri)
        } catch let error as SessionStoreError {
            #expect(!error.message.contains("secret-word"), "\(error.message)")
            #expect(error.message.contains("127.0.0.1:\(port)"), "\(error.message)")
        }
    }

    @Test func aSchemaMissingFromTheSearchPathIsRefusedAtOpen() async throws {
        let server = try await PostgresServer.shared()
        await expectError("STORAGE.CANTOPEN") {
            _ = try await SessionStore.open(postgres: server.conninfo(schema: "no_such_schema_\(getpid())"))
        }
    }

    @Test func aServerErrorCarriesItsSQLState() async throws {
        let place = try await Place.make()
        let store = try await SessionStore.open(postgres: place.conninfo)
        try await store.closing(after: { store in
            let session = try await store.openSession(userId: "ada")
            // A constraint the service layer does not check: the inspector breaks a row.
            let server = place.server
            try server.execute("ALTER TABLE \(place.schema).session_details ADD CONSTRAINT short_values CHECK (length(value) < 4)")
            do {
                try await store.updateDetails(key: session.key, ["note": "far too long"])
                Issue.record("the write passed a check constraint")
            } catch let error as SessionStoreError {
                #expect(error.code.rawValue == "STORAGE.CONSTRAINT")
                #expect(error.sqlState == "23514")
                #expect(error.sql?.contains("session_details") == true, "\(error.sql ?? "no SQL")")
            }
            #expect(try await store.session(key: session.key)?.details.isEmpty == true)
        })
    }

    /// The server ends the store's connections (as a restart or a failover does): the
    /// next calls connect again by themselves and see everything acknowledged before.
    @Test func connectionsEndedByTheServerAreReplacedBySelf() async throws {
        let place = try await Place.make()
        let name = "ended_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        let store = try await SessionStore.open(postgres: "\(place.conninfo) application_name=\(name)")
        try await store.closing(after: { store in
            let before = try await store.openSession(userId: "ada")
            _ = try await store.session(key: before.key)
            let admin = try PGConnection(conninfo: place.server.adminConninfo)
            let ended = try admin.fetchInt64(
                sql: "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ?) ended",
                [.text(name)])
            #expect((ended ?? 0) >= 2, "ended \(ended ?? 0) connections")
            // Idle connections found dead are replaced: a touch's read (a statement on its
            // own), a get's snapshot, a write.
            #expect(try await store.touch(key: before.key).isLive)
            let after = try await store.openSession(userId: "ada")
            #expect(try await store.session(key: before.key)?.isLive == true)
            #expect(try await store.session(key: after.key)?.isLive == true)
            #expect(try place.inspector.count("sessions") == 2)
        })
    }

    /// A call whose transaction is under way when its connection ends fails with
    /// `STORAGE.UNAVAILABLE`; the next call connects again.
    @Test func aCallInFlightWhenItsConnectionEndsIsUnavailable() async throws {
        let place = try await Place.make()
        let backend = try await PostgresBackend.open(conninfo: place.conninfo, configuration: SessionStoreConfiguration())
        await expectError("STORAGE.UNAVAILABLE") {
            do {
                try await backend.write { tx in
                    try tx.storeState.setValue(.rearmTick, 3)
                    // The server ends this connection mid-transaction.
                    try PostgresTransaction.connection(of: tx).execute(sql: "SELECT pg_terminate_backend(pg_backend_pid())")
                    _ = try tx.storeState.value(.rearmEpoch)
                }
            } catch {
                // What the service layer makes of a backend's error.
                throw SessionStoreError.wrap(error)
            }
        }
        // Nothing of the failed call was kept; the next call connects again.
        #expect(try await backend.read { tx in try tx.storeState.value(.rearmTick) } == nil)
        let value = try await backend.write { tx in
            try tx.storeState.setValue(.rearmTick, 7)
            return try tx.storeState.value(.rearmTick)
        }
        #expect(value == 7)
        await backend.close()
    }

    /// A touch within its bucket writes nothing: the server's own count of updated rows of
    /// `sessions` does not move. A touch that moves the bucket does.
    @Test func aTouchWithinItsBucketUpdatesNoRow() async throws {
        let place = try await Place.make()
        // At the start of an hour: the session's bucket ends an hour later.
        let start: Int64 = 1_800_000_000_000 / 3_600_000 * 3_600_000
        let clock = ManualWallClock(now: start)
        var configuration = SessionStoreConfiguration(clock: clock)
        configuration.tick = .seconds(3600)
        let store = try await SessionStore.open(postgres: place.conninfo, configuration: configuration, time: .configurationClock)
        try await store.closing(after: { store in
            let session = try await store.openSession(userId: "ada", timeout: .after(.seconds(60)))
            let updates = {
                try SharedConnection.of(place.server.adminConninfo).use { admin in
                    try admin.executeScript(sql: "SELECT pg_stat_clear_snapshot()")
                    return try admin.fetchInt64(
                        sql: "SELECT n_tup_upd FROM pg_stat_user_tables WHERE schemaname = ? AND relname = 'sessions'",
                        [.text(place.schema)]) ?? -1
                }
            }
            // A backend reports its statistics within about a second of a transaction's end.
            try await Task.sleep(for: .seconds(2))
            let before = try updates()
            for _ in 0..<200 {
                clock.advance(by: .milliseconds(100))
                #expect(try await store.touch(key: session.key).isLive)
            }
            try await Task.sleep(for: .seconds(2))
            #expect(try updates() == before, "200 touches within the bucket updated rows")
            #expect(try place.inspector.value("last_access_at", of: "sessions", where: ["key": .text(session.key)])?.integer
                == start)

            // 40 s before the bucket ends, a 60 s timeout reaches into the next one: the
            // touch writes, and the count shows it.
            clock.advance(by: .seconds(3540))
            #expect(try await store.touch(key: session.key).isLive)
            #expect(await NotificationFollowerTests.eventually { ((try? updates()) ?? before) > before })
        })
    }

    /// `psql` reads the same views as `sqlite3`: the same names and columns on both.
    @Test func theInspectionViewsMatchSQLiteByNameAndColumn() async throws {
        let place = try await Place.make()
        let sqlite = SQLiteLocation()
        let store = try await SessionStore.open(postgres: place.conninfo)
        try await store.closing(after: { store in
            _ = try await store.openSession(userId: "ada", details: ["device": "sensor-1"])
        })
        let file = try await sqlite.open(configuration: SessionStoreConfiguration())
        await file.close()
        let views = [
            "live_sessions", "session_expiry", "session_tree", "active_executions", "recent_events", "user_session_counts",
        ]
        for view in views {
            #expect(try place.inspector.columns(of: view) == sqlite.inspector.columns(of: view), "\(view)")
        }
        for table in try sqlite.inspector.tableCounts().keys where table != "sqlite_sequence" {
            #expect(try place.inspector.columns(of: table) == sqlite.inspector.columns(of: table), "\(table)")
        }
        let psql = try await Command.run(
            "/usr/bin/psql",
            [place.uri, "-X", "-A", "-t", "-c", "SELECT user_id, state FROM live_sessions"])
        #expect(psql.status == 0, "\(psql.stderr)")
        #expect(psql.stdout.split(separator: "\n") == ["ada|idle"])
    }

    /// Eight stores opening one fresh schema at once migrate it once.
    @Test func storesOpeningAFreshSchemaAtOnceMigrateItOnce() async throws {
        let place = try await Place.make()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    let store = try await SessionStore.open(postgres: place.conninfo)
                    _ = try await store.openSession(userId: "ada")
                    await store.close()
                }
            }
            try await group.waitForAll()
        }
        let versions = try place.inspector.values("version", of: "schema_migrations", orderedBy: "version")
        #expect(versions == [1, 2, 3])
        #expect(try place.inspector.count("sessions") == 8)
    }

    /// A schema that records a migration newer than this build's is refused, and left as
    /// it was.
    @Test func aSchemaMigratedByANewerBuildIsRefused() async throws {
        let place = try await Place.make()
        let store = try await SessionStore.open(postgres: place.conninfo)
        await store.close()
        _ = try place.inspector.insert(
            "schema_migrations", ["version": 99, "name": "from_the_future", "checksum": "0000000000000000", "applied_at": 1])
        let before = try place.inspector.tableCounts()
        await expectError("SCHEMA.TOO_NEW") {
            _ = try await SessionStore.open(postgres: place.conninfo)
        }
        #expect(try place.inspector.tableCounts() == before)
    }

    /// A batch that meets a serialization failure (SQLSTATE 40001) runs again; its caller
    /// sees one result, and the first attempt left nothing.
    @Test func aSerializationFailureRunsTheBodyAgain() async throws {
        let place = try await Place.make()
        let backend = try await PostgresBackend.open(conninfo: place.conninfo, configuration: SessionStoreConfiguration())
        let attempts = Atomic<Int>(0)
        let result = try await backend.write { tx in
            let attempt = attempts.add(1, ordering: .relaxed).newValue
            try tx.storeState.setValue(.rearmTick, Int64(attempt))
            if attempt == 1 {
                try PostgresTransaction.connection(of: tx).executeScript(
                    sql: "DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$")
            }
            return attempt
        }
        #expect(result == 2)
        #expect(attempts.load(ordering: .relaxed) == 2)
        #expect(try await backend.read { tx in try tx.storeState.value(.rearmTick) } == 2)
        await backend.close()
    }

    /// Two stores, as two hosts, sweep the same due sessions at once: each session ends
    /// once, with one end event.
    @Test func twoSweepersEndEachDueSessionOnce() async throws {
        let place = try await Place.make()
        let clock = ManualWallClock(now: StoreFixture.start)
        var configuration = SessionStoreConfiguration(clock: clock)
        configuration.tick = .milliseconds(1)
        configuration.minTimeout = .milliseconds(1)
        configuration.sweepBatchSize = 50
        let first = try await SessionStore.open(postgres: place.conninfo, configuration: configuration)
        let second = try await SessionStore.open(postgres: place.conninfo, configuration: configuration)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<4 {
                group.addTask {
                    for index in stride(from: writer, to: 1_000, by: 4) {
                        _ = try await first.openSession(userId: "u\(index % 20)", timeout: .after(.milliseconds(10)))
                    }
                }
            }
            try await group.waitForAll()
        }
        clock.advance(by: .milliseconds(20))
        async let one = first.sweep()
        async let two = second.sweep()
        let reports = try await [one, two]
        #expect(reports.map(\.expiredSessions.count).reduce(0, +) == 1_000, "\(reports.map(\.expiredSessions.count))")
        let inspector = place.inspector
        #expect(try inspector.count("events", where: ["kind": "session.ended"]) == 1_000)
        let ended = try inspector.values("session_key", of: "events", where: ["kind": "session.ended"])
        #expect(Set(ended).count == 1_000)
        #expect(try inspector.count("sessions", where: ["state": "expired"]) == 1_000)
        await first.close()
        await second.close()
    }
}
