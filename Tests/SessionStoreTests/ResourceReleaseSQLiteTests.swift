import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Resource releases done by `sessionctl serve` in another process reach the owner
/// started afterwards, and `sessionctl releases` reads them: several processes on one
/// SQLite file.
@Suite struct ResourceReleaseSQLiteTests {
    typealias Kit = NotificationKit

    /// The owner creates a session owning resources and goes away; `sessionctl serve`, in
    /// another process, expires it; the owner, opened afterwards, receives every release
    /// once, acknowledges, and gets none of them again after reopening. `sessionctl
    /// releases` reads the same releases.
    @Test func releasesDoneByServeReachTheOwnerStartedAfterwards() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path("sessions.sqlite")
        let owned = ["artifact/a.jar", "artifact/b.jar", "view/v1"]
        // The owner's clock stands still a minute behind real time: in the owner the
        // session never falls due while it adds its resources, however slow the machine;
        // to serve, on the real clock, it is overdue at once.
        let ownerClock = ManualWallClock(now: TestStore.realTime(offsetBy: -60))
        let key = try await Self.withOwner(path, clock: ownerClock) { store in
            let session = try await store.openSession(userId: "owner", timeout: .after(.seconds(5)))
            for name in owned {
                let parts = name.split(separator: "/").map(String.init)
                _ = try await store.addResource(key: session.key, kind: parts[0], name: parts[1], bytes: 5)
            }
            return session.key
        }

        // Process B expires the session while the owner is down.
        let serve = try await SpawnedSessionctl(["--db", path, "serve"] + MultiProcessSweepTests.serveSettings)
        try await MultiProcessSweepTests.waitUntilServing([serve], path: path)
        let expired = await MultiProcessSweepTests.eventually(within: .seconds(60)) {
            try CrashInspector(path: path).count("SELECT count(*) FROM sessions WHERE state = 'expired'") == 1
        }
        #expect(expired, "serve did not expire the session: \(serve.stderrText().suffix(2000))")
        await MultiProcessSweepTests.stop(serve, with: SIGTERM)

        // The owner starts, subscribes, deletes and acknowledges.
        let received = try await Self.withOwner(path) { store in
            let releases = try store.resourceReleases(subscription: "artifacts")
            let received = try #require(try await Kit.first(3, of: releases, within: .seconds(30)), "the releases did not arrive")
            #expect(ResourceReleaseTests.names(received).sorted() == owned)
            #expect(received.allSatisfy { $0.sessionKey == key && $0.reason == "session expired" && $0.bytes == 5 })
            try await releases.acknowledge(through: received.map(\.seq).max() ?? 0)
            return received
        }
        #expect(Set(received.map(\.seq)).count == 3)

        try await Self.withOwner(path) { store in
            let releases = try store.resourceReleases(subscription: "artifacts")
            #expect(try await releases.listPending().isEmpty)
            let task = Kit.collect(1, of: releases, within: .seconds(30))
            let session = try await store.openSession(userId: "owner")
            _ = try await store.addResource(key: session.key, kind: "artifact", name: "new.jar", bytes: 1)
            _ = try await store.releaseResource(key: session.key, kind: "artifact", name: "new.jar")
            let next = try #require(try await task.value, "the new release did not arrive")
            #expect(ResourceReleaseTests.names(next) == ["artifact/new.jar"])
        }

        // The CLI follows releases too: printed until acknowledged, then not again.
        func releases(_ extra: [String]) async throws -> [String] {
            let result = try await Sessionctl.run(["--db", path, "releases", "--subscription", "cli", "--json"] + extra)
            #expect(result.status == 0, "releases: \(result.stderr)")
            // Without --follow, one JSON array, empty when nothing is pending.
            let pending = try #require(try result.json() as? [[String: Any]], "stdout: \(result.stdout)")
            return pending.map { "\($0["kind"] ?? "?")/\($0["name"] ?? "?")" }
        }
        let peek = try await releases([])
        #expect(peek.sorted() == (owned + ["artifact/new.jar"]).sorted())
        #expect(try await releases([]) == peek)
        #expect(try await releases(["--ack"]) == peek)
        #expect(try await releases([]).isEmpty)
    }

    /// Opens a store with the real clock (another process shares the file), runs `body`,
    /// closes it.
    static func withOwner<T>(
        _ path: String, clock: (any WallClock)? = nil, _ body: (SessionStore) async throws -> T
    ) async throws -> T {
        var configuration = SessionStoreConfiguration()
        if let clock { configuration.clock = clock }
        let store = try await SessionStore.open(path: path, configuration: configuration)
        do {
            let value = try await body(store)
            await store.close()
            return value
        } catch {
            await store.close()
            throw error
        }
    }
}
