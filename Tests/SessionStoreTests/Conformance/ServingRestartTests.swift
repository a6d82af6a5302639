import Foundation
import SessionStore
import Testing

/// ZooKeeper's restart rule, with the injected clock: when the last serving process (one
/// running the sweeper) goes away, crashed or stopped, the time until the store is next
/// opened does not count. The sessions that fell due after that process was last seen
/// get a full timeout from the reopen; those due before stay expired; and no reader ever
/// sees a session expired and later live.
@Suite struct ServingRestartTests {
    static let tick: Int64 = 1_000
    /// Due before the serving process goes away.
    static let shortTimeout: Int64 = 2_000
    /// Due while no serving process runs.
    static let longTimeout: Int64 = 10_000

    static func configure(_ configuration: inout SessionStoreConfiguration) {
        configuration.tick = .milliseconds(tick)
    }

    /// The two sessions of each scenario.
    struct Sessions {
        let early: String
        let late: String
        var keys: [String] { [early, late] }
    }

    /// Every read of each session, in order, as expired or live: the invariant is that no
    /// key is ever read expired and then live.
    final class Observations: @unchecked Sendable {
        private(set) var byKey: [String: [Bool]] = [:]

        /// Reads each key through `session(key:)` and `listSessions`, recording whether it
        /// is expired at the clock's time: ended, or its expiry has passed.
        func read(_ store: SessionStore, _ keys: [String], now: Int64) async throws {
            let listed = Dictionary(
                uniqueKeysWithValues: try await store.listSessions(SessionFilter(states: .live)).map { ($0.key, $0) })
            for key in keys {
                let session = try #require(try await store.session(key: key))
                let expired = Self.isExpired(session, now: now)
                byKey[key, default: []].append(expired)
                if let listedSession = listed[key] {
                    #expect(!Self.isExpired(listedSession, now: now), "listed as live but expired: \(key)")
                    #expect(!expired, "get and list disagree about \(key)")
                }
            }
        }

        static func isExpired(_ session: Session, now: Int64) -> Bool {
            !session.state.isLive || (session.expireAt.map { $0.milliseconds <= now } ?? false)
        }

        func expectNeverExpiredThenLive(sourceLocation: SourceLocation = #_sourceLocation) {
            for (key, reads) in byKey {
                if let firstExpired = reads.firstIndex(of: true) {
                    #expect(
                        !reads[firstExpired...].contains(false), "session \(key) read expired, then live: \(reads)",
                        sourceLocation: sourceLocation)
                }
            }
        }
    }

    /// Runs a real ``ExpirySweeper`` until `body` returns, then stops it as a graceful
    /// shutdown would. `body` starts once the sweeper's first pass is done; it makes no
    /// second one (its clock parks it until it is stopped).
    static func serving<T>(_ store: SessionStore, body: () async throws -> T) async throws -> T {
        let clock = ParkedClock()
        let sweeper = ExpirySweeper(store: store, clock: clock, interval: .seconds(1), jitter: .zero)
        let task = Task { try await sweeper.run() }
        await clock.parked()
        let value: T
        do {
            value = try await body()
        } catch {
            task.cancel()
            _ = try? await task.value
            throw error
        }
        task.cancel()
        try await task.value
        return value
    }

    static func openSessions(_ store: SessionStore) async throws -> Sessions {
        Sessions(
            early: try await store.openSession(userId: "ada", timeout: .after(.milliseconds(shortTimeout))).key,
            late: try await store.openSession(userId: "bob", timeout: .after(.milliseconds(longTimeout))).key)
    }

    /// The first open after the serving process went away at `lastSeen`: `late` is live
    /// with a full timeout from the reopen and the first sweep expires only `early`.
    static func expectReArmed(
        _ test: StoreFixture, _ sessions: Sessions, lastSeen: Int64, observations: Observations
    ) async throws {
        let reopenedAt = test.clock.now()
        try await test.withStore(configure) { store in
            let recovery = try #require(store.recovery)
            #expect(recovery.rearmEpoch?.milliseconds == reopenedAt)
            #expect(recovery.servingLastSeen?.milliseconds == lastSeen)
            try await observations.read(store, sessions.keys, now: reopenedAt)
            let rearmed = roundUp(reopenedAt + longTimeout, tick)
            #expect(try await store.session(key: sessions.late)?.expireAt?.milliseconds == rearmed)
            #expect(try await store.session(key: sessions.early)?.expireAt.map(\.milliseconds) ?? 0 <= reopenedAt)

            let report = try await store.sweep()
            #expect(report.expiredSessions.keys == [sessions.early])
            #expect(report.rearmedSessions == 1)
            #expect(try test.sessionTiming(key: sessions.late) == StoreFixture.SessionTiming(state: "idle", expireAt: rearmed, lastAccessAt: StoreFixture.start))
            try await observations.read(store, sessions.keys, now: test.clock.now())

            // From then on a session expires the moment its expiry passes.
            test.clock.set(rearmed)
            try await observations.read(store, sessions.keys, now: test.clock.now())
            #expect(try await store.sweep().expiredSessions.keys == [sessions.late])
            try await observations.read(store, sessions.keys, now: test.clock.now())
        }
        // Re-armed once: a further open finds nothing to do.
        try await test.withStore(configure) { store in
            #expect(store.recovery == nil)
        }
        #expect(try test.endedEventStates(key: sessions.early) == ["expired"])
        #expect(try test.endedEventStates(key: sessions.late) == ["expired"])
        observations.expectNeverExpiredThenLive()
    }

    @Test(arguments: Backend.all)
    func afterACleanStopOfTheOnlyServingStoreSessionsDueSinceGetAFullTimeout(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        let observations = Observations()
        let (sessions, stoppedAt) = try await test.withStore(Self.configure) { store in
            try await Self.serving(store) {
                let sessions = try await Self.openSessions(store)
                // `early` falls due while the store still serves.
                test.clock.advance(by: .milliseconds(3_000))
                try await observations.read(store, sessions.keys, now: test.clock.now())
                return (sessions, test.clock.now())
            }
        }
        #expect(try test.storeState("serving_stopped_at") == stoppedAt)
        #expect(try test.inspector.count("instances") == 0)

        // Down past `late`'s expiry.
        test.clock.advance(by: .milliseconds(20_000))
        try await Self.expectReArmed(test, sessions, lastSeen: stoppedAt, observations: observations)
        #expect(try test.storeState("serving_stopped_at") == nil)
    }

    @Test(arguments: Backend.all)
    func afterTheOnlyServingStoreDiesSessionsDueSinceItsLastHeartbeatGetAFullTimeout(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        let observations = Observations()
        let sessions = try await test.withStore(Self.configure) { store in
            let sessions = try await Self.openSessions(store)
            test.clock.advance(by: .milliseconds(3_000))
            try await observations.read(store, sessions.keys, now: test.clock.now())
            return sessions
        }
        // What a serving process leaves when it is killed: its row, with its last heartbeat.
        let lastHeartbeat = test.clock.now()
        try test.leaveDeadInstance(serving: true)
        test.clock.advance(by: .milliseconds(20_000))
        try await Self.expectReArmed(test, sessions, lastSeen: lastHeartbeat, observations: observations)
    }

    /// A process that does not serve (a CLI command, a service without the sweeper) may
    /// stay open across the stop: until a store is opened again, the sessions due after
    /// the stop are suspended (no expiry) for its reads, never expired.
    @Test(arguments: Backend.all)
    func aReaderOpenAcrossTheStopSeesSuspendedSessionsNotExpiredOnes(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        let observations = Observations()
        try await test.withStore(Self.configure) { reader in
            let (sessions, stoppedAt) = try await test.withStore(Self.configure) { store in
                try await Self.serving(store) {
                    let sessions = try await Self.openSessions(store)
                    test.clock.advance(by: .milliseconds(3_000))
                    return (sessions, test.clock.now())
                }
            }
            test.clock.advance(by: .milliseconds(20_000))
            try await observations.read(reader, sessions.keys, now: test.clock.now())
            #expect(try await reader.session(key: sessions.late)?.expireAt == nil)
            let early = try #require(try await reader.session(key: sessions.early))
            #expect(early.state == .expired)
            #expect(early.endedAt?.milliseconds == roundUp(StoreFixture.start + Self.shortTimeout, Self.tick))
            #expect(try await reader.touch(key: sessions.late) == .live)
            try await Self.expectReArmed(test, sessions, lastSeen: stoppedAt, observations: observations)
        }
    }

    @Test(arguments: Backend.all)
    func withStrictRecoveryBothSessionsKeepTheirExpiry(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        let sessions = try await test.withStore(Self.configure) { store in
            try await Self.serving(store) {
                let sessions = try await Self.openSessions(store)
                test.clock.advance(by: .milliseconds(3_000))
                return sessions
            }
        }
        test.clock.advance(by: .milliseconds(20_000))
        try await test.withStore {
            Self.configure(&$0)
            $0.recoveryMode = .strict
        } body: { (store) async throws in
            #expect(store.recovery == nil)
            #expect(try test.storeStateNames().filter { $0.hasPrefix("rearm") || $0 == "serving_stopped_at" } == [])
            #expect(Set(try await store.sweep().expiredSessions.keys) == Set(sessions.keys))
        }
    }

    /// Without a serving process ever, the CLI alone expires sessions on time: nothing is
    /// re-armed, whoever opens the store.
    @Test(arguments: Backend.all)
    func aStoreThatNeverHadAServingProcessExpiresOnTime(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        let observations = Observations()
        let sessions = try await test.withStore(Self.configure) { store in
            try await Self.openSessions(store)
        }
        try test.leaveDeadInstance(serving: false)
        test.clock.advance(by: .milliseconds(20_000))
        try await test.withStore(Self.configure) { store in
            #expect(store.recovery?.deadInstances == 1)
            #expect(store.recovery?.rearmEpoch == nil)
            try await observations.read(store, sessions.keys, now: test.clock.now())
            #expect(observations.byKey.values.allSatisfy { $0 == [true] })
            #expect(Set(try await store.sweep().expiredSessions.keys) == Set(sessions.keys))
        }
        observations.expectNeverExpiredThenLive()
    }

    /// A second serving process keeps the time counting: one of two stopping re-arms
    /// nothing.
    @Test(arguments: Backend.all)
    func aStopWhileAnotherStoreServesReArmsNothing(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore(Self.configure) { other in
            try await Self.serving(other) {
                try await test.withStore(Self.configure) { store in
                    try await Self.serving(store) { _ = try await Self.openSessions(store) }
                }
                #expect(try test.inspector.count("instances", where: ["serving": 1]) == 1)
                #expect(try test.storeState("serving_stopped_at") == nil)
                try await test.withStore(Self.configure) { store in #expect(store.recovery == nil) }
            }
        }
    }
}

/// A clock for a sweeper under test: it tells when the sweeper first waits (its first
/// pass is done) and keeps it waiting until its task is cancelled.
final class ParkedClock: Clock, @unchecked Sendable {
    typealias Instant = ContinuousClock.Instant
    private let waiting = AsyncStream<Void>.makeStream()

    var now: Instant { ContinuousClock.now }
    var minimumResolution: Duration { .milliseconds(1) }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        waiting.continuation.yield()
        try await Task.sleep(for: .seconds(86_400))
    }

    /// Returns once the sweeper waits for the first time.
    func parked() async {
        var iterator = waiting.stream.makeAsyncIterator()
        _ = await iterator.next()
    }
}
