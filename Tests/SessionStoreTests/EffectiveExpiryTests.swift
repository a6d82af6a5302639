import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

/// After a recovery in `rearm` mode, live sessions are re-armed lazily (only the
/// re-arm state of `store_state` is written), yet every reader — the library's
/// reads and the `live_sessions` view in the `sqlite3` shell — shows the expiry the
/// sweeper then writes, never the stored one that lies in the past.
@Suite struct EffectiveExpiryTests {
    typealias Kit = ExpiryKit
    /// The tick of the process that recovers: re-armed expiries are rounded up to it.
    static let recoveryTick: Int64 = 1_000
    /// The tick of the process that reads and sweeps afterwards: touches round to it.
    static let readerTick: Int64 = 7
    static let timeout: Int64 = 10_000

    /// Three sessions written by a process that died with the file open (its `instances`
    /// row stays behind); the clock then moves past every expiry, off a tick boundary.
    static func crashedFile() async throws -> (test: TestStore, keys: [String]) {
        let test = TestStore(start: TestStore.realTime(offsetBy: 86_400))
        let keys = try await test.withStore { $0.tick = .milliseconds(recoveryTick) } body: { store in
            var keys: [String] = []
            for user in ["ada", "bob", "cy"] {
                keys.append(try await store.openSession(userId: user, dataSource: "warehouse", timeout: .after(.milliseconds(timeout))).key)
            }
            return keys
        }
        try test.leaveDeadInstance()
        test.clock.advance(by: .milliseconds(3 * timeout + 123))
        return (test, keys)
    }

    /// `key → expires` of every row of `live_sessions`, read by the `sqlite3` shell.
    static func viewExpiries(_ path: String) async throws -> [String: String] {
        let rows = try await SQLiteShell.rows(path, "SELECT key, expires FROM live_sessions")
        var expiries: [String: String] = [:]
        for line in rows {
            let fields = line.split(separator: "|", omittingEmptySubsequences: false)
            if fields.count == 2 { expiries[String(fields[0])] = String(fields[1]) }
        }
        return expiries
    }

    /// The expiry in milliseconds every reader shows for each of `keys`: `session(key:)`,
    /// `listSessions`, `currentSessions` and the view (as ISO-8601 text).
    static func shownExpiries(_ store: SessionStore, _ test: TestStore, keys: [String]) async throws -> [String: Int64] {
        var fromGet: [String: Int64] = [:]
        for key in keys {
            fromGet[key] = try await store.session(key: key)?.expireAt?.milliseconds
        }
        let listed = try await store.listSessions(SessionFilter(states: .live))
        let fromList = Dictionary(uniqueKeysWithValues: listed.map { ($0.key, $0.expireAt?.milliseconds) })
        let current = try await store.listCurrentSessions(dataSource: "warehouse")
        let fromCurrent = Dictionary(uniqueKeysWithValues: current.map { ($0.key, $0.expireAt?.milliseconds) })
        let fromView = try await viewExpiries(test.path)
        for key in keys {
            let shown = try #require(fromGet[key], "session \(key)")
            #expect(fromList[key] == shown, "listSessions, session \(key)")
            #expect(fromCurrent[key] == shown, "currentSessions, session \(key)")
            #expect(fromView[key] == Timestamp(milliseconds: shown).iso8601, "live_sessions, session \(key)")
        }
        return fromGet
    }

    @Test
    func afterARecoveryEveryReaderShowsTheExpiryTheSweeperWrites() async throws {
        let (test, keys) = try await Self.crashedFile()
        let staleExpiry = roundUp(test.start + Self.timeout, Self.recoveryTick)
        let recoveredAt = test.clock.now()
        try await test.withStore { $0.tick = .milliseconds(Self.recoveryTick) } body: { recovering in
            #expect(recovering.recovery?.rearmEpoch?.milliseconds == recoveredAt)
        }
        // Recovery wrote no session: the stored expiry is still the stale one.
        for key in keys {
            #expect(try Kit.timing(test, key: key)?.expireAt == staleExpiry, "session \(key)")
        }

        // Another process, with another tick, reads and sweeps the recovered file.
        try await test.withStore { $0.tick = .milliseconds(Self.readerTick) } body: { store in
            #expect(store.recovery == nil)
            let rearmed = roundUp(recoveredAt + Self.timeout, Self.recoveryTick)
            #expect(rearmed > test.clock.now())
            #expect(rearmed != roundUp(recoveredAt + Self.timeout, Self.readerTick))
            let shown = try await Self.shownExpiries(store, test, keys: keys)
            #expect(shown == Dictionary(uniqueKeysWithValues: keys.map { ($0, rearmed) }))

            // A session touched after the recovery shows its touched expiry.
            test.clock.advance(by: .milliseconds(2 * Self.recoveryTick))
            let touchedAt = test.clock.now()
            let touched = keys[2]
            #expect(try await store.touch(key: touched) == .live)
            let touchedExpiry = roundUp(touchedAt + Self.timeout, Self.readerTick)
            #expect(touchedExpiry > rearmed)
            #expect(try Kit.timing(test, key: touched) == Kit.Timing(state: "idle", expireAt: touchedExpiry, lastAccessAt: touchedAt))
            let afterTouch = try await Self.shownExpiries(store, test, keys: keys)
            #expect(afterTouch == [keys[0]: rearmed, keys[1]: rearmed, touched: touchedExpiry])

            // The sweeper writes exactly what was shown, rounded to the recovering process's
            // tick, and readers go on showing it.
            let report = try await store.sweep()
            #expect(report.expiredSessions.isEmpty)
            #expect(report.rearmedSessions == 2)
            for key in keys {
                #expect(try Kit.timing(test, key: key)?.expireAt == afterTouch[key], "session \(key)")
            }
            #expect(try await Self.shownExpiries(store, test, keys: keys) == afterTouch)

            // Re-armed once: at that expiry the two untouched sessions expire.
            test.clock.set(rearmed)
            let later = try await store.sweep()
            #expect(Set(later.expiredSessions.keys) == Set(keys[0...1]))
            #expect(later.rearmedSessions == 0)
        }
    }

    @Test
    func afterARearmWrittenByAnotherProcessEveryReaderShowsTheExpiryTheSweeperWrites() async throws {
        let test = TestStore(start: TestStore.realTime(offsetBy: 86_400))
        try await test.withStore { $0.tick = .milliseconds(Self.recoveryTick) } body: { store in
            var keys: [String] = []
            for user in ["ada", "bob", "cy"] {
                keys.append(try await store.openSession(userId: user, dataSource: "warehouse", timeout: .after(.milliseconds(Self.timeout))).key)
            }
            let staleExpiry = roundUp(test.start + Self.timeout, Self.recoveryTick)
            test.clock.advance(by: .milliseconds(100 * Self.recoveryTick + 456))
            let guardedAt = test.clock.now()
            try Kit.rearm(test, epoch: guardedAt, tick: Self.recoveryTick)
            for key in keys {
                #expect(try Kit.timing(test, key: key)?.expireAt == staleExpiry, "session \(key)")
            }
            let rearmed = roundUp(guardedAt + Self.timeout, Self.recoveryTick)
            #expect(try await Self.shownExpiries(store, test, keys: keys) == Dictionary(uniqueKeysWithValues: keys.map { ($0, rearmed) }))

            test.clock.advance(by: .milliseconds(1_500))
            let touchedAt = test.clock.now()
            #expect(try await store.touch(key: keys[0]) == .live)
            let touchedExpiry = roundUp(touchedAt + Self.timeout, Self.recoveryTick)
            let shown = try await Self.shownExpiries(store, test, keys: keys)
            #expect(shown == [keys[0]: touchedExpiry, keys[1]: rearmed, keys[2]: rearmed])

            let report = try await store.sweep()
            #expect(report.rearmedSessions == 2)
            #expect(report.expiredSessions.isEmpty)
            for key in keys {
                #expect(try Kit.timing(test, key: key)?.expireAt == shown[key], "session \(key)")
            }
        }
    }

    /// An epoch written without its tick (by an earlier version) re-arms to the
    /// millisecond, for readers and the sweeper alike.
    @Test func anEpochWithoutATickReArmsToTheMillisecond() async throws {
        let test = TestStore(start: TestStore.realTime(offsetBy: 86_400))
        try await test.withStore { $0.tick = .milliseconds(Self.recoveryTick) } body: { store in
            let key = try await store.openSession(userId: "ada", timeout: .after(.milliseconds(Self.timeout))).key
            test.clock.advance(by: .milliseconds(3 * Self.timeout + 123))
            let epoch = test.clock.now()
            try Kit.rearm(test, epoch: epoch, tick: Self.recoveryTick)
            let db = try Database(path: test.path)
            try db.execute(sql: "DELETE FROM store_state WHERE name = 'rearm_tick'")
            #expect(db.changesCount == 1)
            #expect(try await store.session(key: key)?.expireAt?.milliseconds == epoch + Self.timeout)
            #expect(try await store.sweep().rearmedSessions == 1)
            #expect(try Kit.timing(test, key: key)?.expireAt == epoch + Self.timeout)
        }
    }

    /// A timeout so long that `epoch + timeout` overflows: the re-armed expiry saturates
    /// at the largest tick below `Int64.max`, as a touch's would, for readers and the
    /// sweeper alike.
    @Test func aReArmedExpiryBeyondTheLastTickSaturates() async throws {
        let test = TestStore(start: TestStore.realTime(offsetBy: 86_400))
        try await test.withStore { $0.tick = .milliseconds(Self.recoveryTick) } body: { store in
            let key = try await store.openSession(userId: "ada", timeout: .after(.milliseconds(Self.timeout))).key
            let db = try Database(path: test.path)
            try db.execute(sql: "UPDATE sessions SET timeout_ms = ? WHERE key = ?", [.integer(.max - 1), .text(key)])
            test.clock.advance(by: .milliseconds(3 * Self.timeout))
            try Kit.rearm(test, epoch: test.clock.now(), tick: Self.recoveryTick)
            let latest = Int64.max - Int64.max % Self.recoveryTick
            #expect(try await store.session(key: key)?.expireAt?.milliseconds == latest)
            #expect(try await store.sweep().rearmedSessions == 1)
            #expect(try Kit.timing(test, key: key)?.expireAt == latest)
        }
    }
}
