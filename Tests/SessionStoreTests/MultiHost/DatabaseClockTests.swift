import Foundation
import SessionStorePostgres
import Testing

/// A host's wall clock `offset` milliseconds away from the real time.
struct SkewedWallClock: WallClock {
    let offset: Int64

    func now() -> Int64 {
        SystemWallClock().now() + offset
    }
}

/// One clock for every host on PostgreSQL: the database server's.
@Suite struct DatabaseClockTests {
    /// The database server's time now, in milliseconds, read by the test itself.
    static func databaseNow(_ server: PostgresServer) throws -> Int64 {
        try SharedConnection.of(server.adminConninfo).use { try $0.fetchInt64(sql: PGConnection.timeSQL) } ?? -1
    }

    static func host(_ name: String, offset: Int64, conninfo: String) async throws -> SessionStore {
        var configuration = SessionStoreConfiguration(clock: SkewedWallClock(offset: offset))
        configuration.tick = .milliseconds(100)
        configuration.instanceHost = name
        return try await SessionStore.open(postgres: conninfo, configuration: configuration)
    }

    /// Host A's clock is 10 minutes slow and host B's 10 minutes fast: a session opened
    /// through A with a 15 s timeout expires 15 s after the database's time of the open,
    /// for both, not 10 minutes early for B nor 10 minutes late for A.
    @Test func hostsWhoseClocksDisagreeByTenMinutesExpireASessionAtTheDatabasesInstant() async throws {
        let place = try await PostgresConcurrencyTests.Place.make()
        let tenMinutes: Int64 = 600_000
        let slow = try await Self.host("host-a", offset: -tenMinutes, conninfo: place.conninfo)
        let fast = try await Self.host("host-b", offset: tenMinutes, conninfo: place.conninfo)

        let before = try Self.databaseNow(place.server)
        let session = try await slow.openSession(userId: "ada", timeout: .after(.seconds(15)))
        let after = try Self.databaseNow(place.server)
        // Written in the database's time: neither host's clock shows.
        #expect((before...after).contains(session.createdAt.milliseconds), "created \(session.createdAt.milliseconds), database \(before)...\(after)")
        let expireAt = try #require(session.expireAt?.milliseconds)
        #expect((before + 15_000...after + 15_000 + 100).contains(expireAt), "expires \(expireAt), database \(before)...\(after)")

        // B's clock is far past the expiry, but the database's is not.
        #expect(try await fast.session(key: session.key)?.state.isLive == true)
        #expect(try await fast.touch(key: session.key).isLive)
        let touched = try #require(try await slow.session(key: session.key))
        let expiry = try #require(touched.expireAt?.milliseconds)

        // Once the database's time passes the expiry, both see it expired, A too.
        while try Self.databaseNow(place.server) <= expiry {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(try await slow.touch(key: session.key).isLive == false)
        #expect(try await fast.session(key: session.key)?.state == .expired)
        #expect(try await slow.session(key: session.key)?.state == .expired)

        // The sweep of the fast host ends it no earlier than the expiry.
        let report = try await fast.sweep()
        #expect(report.expiredSessions.keys.contains(session.key))
        let ended = try #require(try await slow.session(key: session.key))
        #expect(ended.state == .expired)
        let endedAt = try #require(ended.endedAt?.milliseconds)
        let now = try Self.databaseNow(place.server)
        #expect(endedAt >= expiry && endedAt <= now, "ended \(endedAt), expiry \(expiry), database now \(now)")
        await slow.close()
        await fast.close()
    }

    /// Every transaction reads the server's clock with its first statement: a store whose
    /// own clock is a day off writes the database's time into `instances` as well.
    @Test func heartbeatsAreInDatabaseTime() async throws {
        let place = try await PostgresConcurrencyTests.Place.make()
        let day: Int64 = 86_400_000
        let store = try await Self.host("host-day", offset: day, conninfo: place.conninfo)
        let before = try Self.databaseNow(place.server)
        try await store.heartbeat()
        let after = try Self.databaseNow(place.server)
        let heartbeat = try #require(try place.inspector.value("heartbeat_at", of: "instances", where: ["host": .text("host-day")])?.integer)
        #expect((before...after).contains(heartbeat), "heartbeat \(heartbeat), database \(before)...\(after)")
        await store.close()
    }
}
