import Foundation
import SessionStore
import Testing

/// Lengths of time are `Duration` in the public API and whole milliseconds in the file. A
/// configured duration that does not fit in `Int64` milliseconds, or a negative one, is
/// refused with `INVALID_ARGUMENT` when the store opens; a requested timeout beyond them
/// is clamped like any long one. Never a crash.
@Suite struct PublicDurationTests {
    /// A configuration change the store must refuse, and the option the error names.
    struct BadOption: Sendable, CustomTestStringConvertible {
        let name: String
        let apply: @Sendable (inout SessionStoreConfiguration) -> Void
        var testDescription: String { name }
    }

    static let badOptions: [BadOption] = [
        BadOption(name: "tick") { $0.tick = .seconds(Int64.max) },
        BadOption(name: "event-retention") { $0.eventRetention = .seconds(Int64.max) },
        BadOption(name: "detached-timeout") { $0.detachedTimeout = .seconds(-1) },
        BadOption(name: "max-timeout") { $0.maxTimeout = .milliseconds(Int64.max) + .milliseconds(1) },
        BadOption(name: "default-timeout") { $0.defaultTimeout = .after(.seconds(Int64.max)) },
    ]

    @Test(arguments: badOptions)
    func aConfiguredDurationBeyondMillisecondsIsRefusedBeforeTheFileOpens(option: BadOption) async throws {
        let test = TestStore()
        let error = await #expect(throws: SessionStoreError.self) {
            try await test.withStore(option.apply) { _ in }
        }
        #expect(error?.code == "INVALID_ARGUMENT.CONFIG_VALUE")
        #expect(error?.message.contains(option.name) == true, "\(error?.message ?? "")")
        #expect(!FileManager.default.fileExists(atPath: test.path))
    }

    @Test func aRequestedTimeoutBeyondMillisecondsIsClamped() async throws {
        let test = TestStore()
        try await test.withStore { $0.maxTimeout = .seconds(3600) } body: { store in
            let session = try await store.openSession(userId: "ada", timeout: .after(.seconds(Int64.max)))
            #expect(session.timeout == .after(.seconds(3600)))
            let execution = try await store.createExecution(key: session.key, timeout: .seconds(Int64.max))
            #expect(execution.timeout == .milliseconds(Int64.max))
        }
    }

    @Test func theLargestDurationsThatFitRunWithoutOverflow() async throws {
        let test = TestStore()
        try await test.withStore {
            $0.tick = .milliseconds(Int64.max)
            $0.maxTimeout = .milliseconds(Int64.max)
            $0.tombstoneRetention = .milliseconds(Int64.max)
            $0.eventRetention = .milliseconds(Int64.max)
            $0.detachedTimeout = .milliseconds(Int64.max)
            $0.heartbeatInterval = .milliseconds(Int64.max)
        } body: { store in
            let session = try await store.openSession(userId: "ada", timeout: .after(.milliseconds(Int64.max)))
            #expect(session.timeout == .after(.milliseconds(Int64.max)))
            #expect(try await store.touch(key: session.key) == .live)
            let sweeper = ExpirySweeper(store: store, clock: ContinuousClock(), jitter: .zero)
            for _ in 0..<2 {
                let report = try await sweeper.runPass()
                #expect(report.expiredSessions.isEmpty)
            }
        }
    }

    @Test func durationsAreKeptInWholeMilliseconds() async throws {
        let test = TestStore()
        try await test.withStore { $0.tick = .microseconds(2_000_900) } body: { store in
            let session = try await store.openSession(userId: "ada", timeout: .after(.microseconds(45_500_700)))
            #expect(session.timeout == .after(.milliseconds(45_500)))
            #expect(session.expireAt == Timestamp(milliseconds: 1_700_000_046_000))
            let execution = try await store.createExecution(key: session.key, timeout: .microseconds(30_000_999))
            #expect(execution.timeout == .milliseconds(30_000))
        }
    }

    @Test func sessionJSONCarriesTheTimeoutInMilliseconds() async throws {
        let test = TestStore()
        let (timed, endless) = try await test.withStore { store in
            let timed = try await store.openSession(userId: "ada", timeout: .after(.seconds(90)))
            let endless = try await store.openSession(userId: "bob", timeout: .never)
            return (timed, endless)
        }

        let encoder = JSONEncoder()
        let timedJSON = try #require(try JSONSerialization.jsonObject(with: encoder.encode(timed)) as? [String: Any])
        #expect(timedJSON["timeoutMs"] as? Int == 90_000)
        let endlessJSON = try #require(try JSONSerialization.jsonObject(with: encoder.encode(endless)) as? [String: Any])
        #expect(endlessJSON["timeoutMs"] is NSNull)
        for session in [timed, endless] {
            #expect(try JSONDecoder().decode(Session.self, from: encoder.encode(session)) == session)
        }
    }

    @Test func theManualClockAdvancesByADuration() {
        let clock = ManualWallClock(now: 1_000)
        clock.advance(by: .seconds(2))
        clock.advance(by: .microseconds(1_999))
        #expect(clock.now() == 3_001)
        clock.advance(by: .seconds(Int64.max))
        #expect(clock.now() == .max)
    }
}
