import Foundation
import SessionStore
import Synchronization
import Testing

/// The sweeper's storm guard: when a pass finds the previous one far behind (here the
/// injected wall clock jumps forward by 100 ticks), it records the lag; the overdue
/// sessions, expired for every reader already, are ended in batches, never revived.
@Suite struct ExpiryStormGuardTests {
    static let tick: Int64 = 1_000
    static let timeout: Int64 = 5 * tick
    static let sessions = 6

    static func stormEvents(_ store: SessionStore) async throws -> [StoreEvent] {
        try await store.listEvents(after: 0, limit: 1_000, filter: EventFilter(kind: EventKind.stormGuard))
    }

    static func openSessions(_ store: SessionStore) async throws -> [String] {
        var keys: [String] = []
        for index in 0..<sessions {
            keys.append(try await store.openSession(userId: "user-\(index)", timeout: .after(.milliseconds(timeout))).key)
        }
        return keys
    }

    /// The guard allows `maxSweepLagTicks` ticks of lag by either clock. It is raised here
    /// from 10 to 30 only so that a heavily loaded machine never trips it by the
    /// monotonic clock between two back-to-back passes; the wall-clock jump (100 ticks)
    /// is far beyond either value.
    static func configure(_ configuration: inout SessionStoreConfiguration) {
        configuration.tick = .milliseconds(tick)
        configuration.maxSweepLagTicks = 30
    }

    @Test(arguments: Backend.all)
    func aClockJumpOf100TicksIsRecordedAndTheOverdueSessionsExpire(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore(Self.configure) { store in
            let sweeper = ExpirySweeper(store: store, clock: ContinuousClock(), interval: .milliseconds(Self.tick), jitter: .zero)
            let keys = try await Self.openSessions(store)
            let first = try await sweeper.runPass()
            #expect(first.expiredSessions.isEmpty)
            #expect(first.rearmedSessions == 0)

            // The wall clock jumps 100 ticks: every session is 95 ticks overdue, and so
            // expired for every reader already. The guard records the lag; it revives
            // nothing.
            test.clock.advance(by: .milliseconds(100 * Self.tick))
            let jumpedAt = test.clock.now()
            let guarded = try await sweeper.runPass()
            #expect(Set(guarded.expiredSessions.keys) == Set(keys))
            #expect(guarded.expiredSessions.count == Self.sessions)
            #expect(guarded.rearmedSessions == 0)
            #expect(guarded.rowsExamined == Self.sessions)
            for key in keys {
                #expect(try test.sessionTiming(key: key) == StoreFixture.SessionTiming(state: "expired", expireAt: nil, lastAccessAt: StoreFixture.start, endedAt: jumpedAt))
                #expect(try test.endedEventStates(key: key) == ["expired"])
            }
            #expect(try test.storeState("rearm_epoch") == nil)

            let storms = try await Self.stormEvents(store)
            #expect(storms.count == 1)
            let storm = try #require(storms.first)
            let behindTicks = try #require(Int64(storm.payload["behindTicks"] ?? ""), "payload: \(storm.payload)")
            #expect(behindTicks >= 100)
            let behindMs = try #require(Int64(storm.payload["behindMs"] ?? ""), "payload: \(storm.payload)")
            #expect(behindMs >= 100 * Self.tick)
            #expect(!(storm.payload["reason"] ?? "").isEmpty, "payload: \(storm.payload)")
            #expect(storm.at.milliseconds == jumpedAt)
            // The stored payload is the JSON object the event shows.
            let stored = try test.payloads(kind: EventKind.stormGuard)
            #expect(stored.count == 1)
            #expect(stored.filter { ($0["behindTicks"].flatMap { Int64($0) } ?? 0) >= 100 && !($0["reason"] ?? "").isEmpty }.count == 1)

            // The next pass, a tick later, finds nothing and records no second storm.
            test.clock.advance(by: .milliseconds(Self.tick))
            let normal = try await sweeper.runPass()
            #expect(normal.expiredSessions.isEmpty)
            #expect(try await Self.stormEvents(store).count == 1)
            #expect(try test.eventCount(kind: EventKind.sessionEnded) == Int64(Self.sessions))
        }
    }

    /// A pass after a small advance (two ticks, within the allowed lag) expires due
    /// sessions as usual and records no storm event.
    @Test(arguments: Backend.all)
    func aNormalPassAfterASmallAdvanceDoesNotTriggerTheGuard(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore(Self.configure) { store in
            let sweeper = ExpirySweeper(store: store, clock: ContinuousClock(), interval: .milliseconds(Self.tick), jitter: .zero)
            let keys = try await Self.openSessions(store)
            _ = try await sweeper.runPass()
            var expired: [String] = []
            // Passes one or two ticks apart until past the expiry: never the guard.
            for step in [Self.tick, 2 * Self.tick, 2 * Self.tick, Self.tick] {
                test.clock.advance(by: .milliseconds(step))
                let report = try await sweeper.runPass()
                #expect(report.rearmedSessions == 0)
                expired += report.expiredSessions.keys
            }
            #expect(test.clock.now() == StoreFixture.start + 6 * Self.tick)
            #expect(Set(expired) == Set(keys))
            #expect(expired.count == Self.sessions)
            #expect(try await Self.stormEvents(store).isEmpty)
        }
    }

    /// The guard also looks at the sweeper's own (monotonic) clock: a pass that finds the
    /// previous one 100 ticks ago by that clock (the process was suspended, or starved)
    /// fires even though the wall clock moved only a little; the due sessions expire.
    @Test(arguments: Backend.all)
    func aLagOnTheMonotonicClockAloneAlsoTriggersTheGuard(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore(Self.configure) { store in
            let clock = SteppedClock()
            let sweeper = ExpirySweeper(store: store, clock: clock, interval: .milliseconds(Self.tick), jitter: .zero)
            let keys = try await Self.openSessions(store)
            _ = try await sweeper.runPass()
            test.clock.advance(by: .milliseconds(Self.timeout + Self.tick))
            clock.advance(by: .milliseconds(100 * Self.tick))
            let report = try await sweeper.runPass()
            #expect(Set(report.expiredSessions.keys) == Set(keys))
            #expect(report.rearmedSessions == 0)
            let storms = try await Self.stormEvents(store)
            #expect(storms.count == 1)
            #expect(storms.first?.payload["behindTicks"] == "100")
            // Back in step (both clocks one tick apart per pass): no new storm.
            for _ in 0..<3 {
                test.clock.advance(by: .milliseconds(Self.tick))
                clock.advance(by: .milliseconds(Self.tick))
                #expect(try await sweeper.runPass().expiredSessions.isEmpty)
            }
            #expect(try await Self.stormEvents(store).count == 1)
        }
    }

    /// Exactly at the allowed lag (maxSweepLagTicks ticks plus the interval) the guard
    /// does not fire; one millisecond more and it does.
    @Test(arguments: Backend.all)
    func theGuardFiresOnlyBeyondTheAllowedLag(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore(Self.configure) { store in
            let clock = SteppedClock()
            let sweeper = ExpirySweeper(store: store, clock: clock, interval: .milliseconds(Self.tick), jitter: .zero)
            let allowed = store.configuration.maxSweepLagTicks * Self.tick + Self.tick
            _ = try await sweeper.runPass()
            test.clock.advance(by: .milliseconds(allowed))
            clock.advance(by: .milliseconds(allowed))
            _ = try await sweeper.runPass()
            #expect(try await Self.stormEvents(store).isEmpty)
            test.clock.advance(by: .milliseconds(allowed + 1))
            clock.advance(by: .milliseconds(allowed + 1))
            _ = try await sweeper.runPass()
            #expect(try await Self.stormEvents(store).count == 1)
        }
    }
}

/// A monotonic clock for the sweeper that moves only when told to; `sleep` returns at
/// once (jitter is zero in these tests).
final class SteppedClock: Clock {
    struct Instant: InstantProtocol {
        var offset: Duration

        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private let current = Mutex(Instant(offset: .zero))

    var now: Instant { current.withLock { $0 } }
    var minimumResolution: Duration { .milliseconds(1) }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        try Task.checkCancellation()
    }

    func advance(by duration: Duration) {
        current.withLock { $0 = $0.advanced(by: duration) }
    }
}
