import Foundation
import PropertyBased
import SessionStore
import Testing

/// Every number a configuration option, a `SessionStoreConfiguration` property or a
/// `sessionctl` argument takes is either used or refused with a typed error: the extremes
/// of `Int64` and `Int`, zero, minus one and huge durations in every unit never make the
/// library or the tool trap, nor loop forever.
@Suite(.timeLimit(.minutes(4))) struct NumericExtremesTests {
    /// The numbers every numeric input is tried with.
    static let extremes: [Int64] = [
        .max, .min, 0, -1, 1, .max / 86_400_000, Int64(Int32.max) + 1, -(.max / 1000),
    ]
    /// Every unit a duration takes; a bare number is seconds.
    static let units = ["", "ms", "s", "m", "h", "d"]
    /// Any `Int64` at all, with the extremes as likely as the rest.
    static let anyNumber = Gen.oneOf(Gen.element(of: extremes).map { $0 ?? 0 }, Gen.int64())

    /// Each extreme alone and in each unit, and the words some options take.
    static let optionTexts: [String] =
        extremes.flatMap { number in units.map { "\(number)\($0)" } } + ["unlimited", "never", "99999999999999999999", ""]

    static let numericOptions: [String] = SessionStoreConfiguration.options.map(\.name).filter {
        ![
            "durability", "recovery-mode", "impersonation", "redaction-pattern", "allow-never-timeout", "running-sessions-do-not-expire",
            "instance-host",
        ]
            .contains($0)
    }

    // MARK: Options set by name

    @Test(arguments: numericOptions)
    func everyValueOfANumericOptionIsTakenOrRefusedAndTheStoreRunsWithIt(name: String) async throws {
        var exercised = Set<String>()
        for text in Self.optionTexts {
            try await Self.setAndExercise(name, text, exercised: &exercised)
        }
        await propertyCheck(count: 20, input: Self.anyNumber, Gen.element(of: Self.units)) { number, unit in
            var ignored = Set<String>()
            try await Self.setAndExercise(name, "\(number)\(unit ?? "")", exercised: &ignored, open: false)
        }
    }

    /// Sets option `name` to `text`: it is taken, or refused with
    /// `INVALID_ARGUMENT.CONFIG_VALUE` naming it and leaving the configuration as it was.
    /// A value taken opens a store and runs a workload, once per distinct value.
    private static func setAndExercise(_ name: String, _ text: String, exercised: inout Set<String>, open: Bool = true) async throws {
        var configuration = SessionStoreConfiguration()
        let option = try #require(SessionStoreConfiguration.options.first { $0.name == name })
        let before = option.value(in: configuration)
        do {
            try configuration.set(name, to: text)
        } catch let error as SessionStoreError {
            #expect(error.code == "INVALID_ARGUMENT.CONFIG_VALUE", "\(name)=\(text): \(error)")
            #expect(error.message.contains(name), "\(name)=\(text): \(error.message)")
            #expect(option.value(in: configuration) == before, "\(name)=\(text) changed the configuration")
            return
        }
        guard open, exercised.insert(option.value(in: configuration)).inserted else { return }
        try await exercise { $0 = configuration.with(clock: $1) }
    }

    // MARK: Properties set through the API

    /// A `Duration` or count set through its property rather than by name.
    struct PropertyValue: Sendable, CustomTestStringConvertible {
        let testDescription: String
        /// Whether opening must refuse it: as setting the same value by name does; `nil`
        /// where the value has no exact text (a duration finer than a millisecond).
        var refused: Bool? = nil
        let apply: @Sendable (inout SessionStoreConfiguration) -> Void
    }

    /// Whether option `name` refuses `text` when set by name.
    static func refusesByName(_ name: String, _ text: String) -> Bool {
        var configuration = SessionStoreConfiguration()
        do {
            try configuration.set(name, to: text)
            return false
        } catch {
            return true
        }
    }

    /// `duration` as option text in whole milliseconds; `nil` when it has no exact one.
    static func millisecondsText(_ duration: Duration) -> String? {
        let (seconds, attoseconds) = duration.components
        guard attoseconds % 1_000_000_000_000_000 == 0 else { return nil }
        let (milliseconds, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        guard !overflow else { return nil }
        let (total, overflowed) = milliseconds.addingReportingOverflow(attoseconds / 1_000_000_000_000_000)
        return overflowed ? nil : "\(total)ms"
    }

    static let durationPaths: [(String, WritableKeyPath<SessionStoreConfiguration, Duration> & Sendable)] = [
        ("busy-timeout", \.busyTimeout), ("tick", \.tick), ("min-timeout", \.minTimeout), ("max-timeout", \.maxTimeout),
        ("tombstone-retention", \.tombstoneRetention), ("event-retention", \.eventRetention),
        ("subscription-retention", \.subscriptionRetention), ("detached-timeout", \.detachedTimeout),
        ("streaming-query-retention", \.streamingQueryRetention), ("instance-timeout", \.instanceTimeout),
        ("heartbeat-interval", \.heartbeatInterval),
    ]
    static let durations: [Duration] = [
        .seconds(Int64.max), .seconds(Int64.min), .milliseconds(Int64.max), .milliseconds(Int64.min), .zero,
        .milliseconds(-1), .nanoseconds(1), .seconds(Int64(Int32.max)),
    ]
    static let countPaths: [(String, WritableKeyPath<SessionStoreConfiguration, Int> & Sendable)] = [
        ("reader-count", \.readerCount), ("sweep-batch-size", \.sweepBatchSize), ("max-write-batch", \.maxWriteBatch),
        ("max-pending-writes", \.maxPendingWrites), ("max-pending-reads", \.maxPendingReads),
        ("max-tree-nodes", \.limits.maxTreeNodes), ("max-id-bytes", \.limits.maxIdBytes),
        ("max-payload-bytes", \.limits.maxPayloadBytes), ("max-links-per-session", \.limits.maxLinksPerSession),
    ]
    static let counts: [Int] = [.max, .min, 0, -1]

    static let propertyValues: [PropertyValue] =
        durationPaths.flatMap { name, path in
            durations.map { duration in
                PropertyValue(
                    testDescription: "\(name) = \(duration)", refused: millisecondsText(duration).map { refusesByName(name, $0) }
                ) { $0[keyPath: path] = duration }
            }
        }
        + countPaths.flatMap { name, path in
            counts.map { count in
                PropertyValue(testDescription: "\(name) = \(count)", refused: refusesByName(name, String(count))) {
                    $0[keyPath: path] = count
                }
            }
        }
        + [
            PropertyValue(testDescription: "max-sweep-lag-ticks = Int64.min", refused: true) { $0.maxSweepLagTicks = .min },
            PropertyValue(testDescription: "max-sessions = Int.min", refused: true) { $0.limits.maxSessions = .min },
            PropertyValue(testDescription: "max-resource-bytes-per-session = Int64.min", refused: true) {
                $0.limits.maxResourceBytesPerSession = .min
            },
            PropertyValue(testDescription: "default-timeout = Int64.max s") { $0.defaultTimeout = .after(.seconds(Int64.max)) },
        ]

    @Test(arguments: propertyValues)
    func aPropertyOutsideItsOptionsRangeIsRefusedAtOpenAndAnyOtherRuns(value: PropertyValue) async throws {
        let refused = try await Self.exercise { configuration, _ in value.apply(&configuration) }
        if let expected = value.refused {
            #expect(refused == expected, "opening \(expected ? "took" : "refused") \(value.testDescription)")
        }
    }

    /// Opens a store configured by `configure` and runs sessions, executions, resources,
    /// sweeps and a clock at both ends of `Int64` through it. Opening may refuse the
    /// configuration with `INVALID_ARGUMENT.CONFIG_VALUE`, leaving no file; any call may
    /// fail with a `SessionStoreError`; nothing may trap or throw anything else. Returns
    /// whether opening refused the configuration.
    @discardableResult
    private static func exercise(
        _ configure: @escaping (inout SessionStoreConfiguration, ManualWallClock) -> Void,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> Bool {
        let test = TestStore()
        let store: SessionStore
        do {
            store = try await test.open { configure(&$0, test.clock) }
        } catch let error as SessionStoreError {
            #expect(error.code == "INVALID_ARGUMENT.CONFIG_VALUE", "\(error)", sourceLocation: sourceLocation)
            #expect(!FileManager.default.fileExists(atPath: test.path), sourceLocation: sourceLocation)
            return true
        }
        let sweeper = ExpirySweeper(store: store, clock: ContinuousClock(), jitter: .zero)
        var key: String?
        try await allowingRefusals { key = try await store.openSession(userId: "ada", timeout: .after(.seconds(Int64.max))).key }
        try await allowingRefusals { _ = try await store.openSession(userId: "bob", timeout: .after(.zero)) }
        if let key {
            try await allowingRefusals { _ = try await store.touch(key: key) }
            try await allowingRefusals { _ = try await store.createExecution(key: key, timeout: .seconds(Int64.max)) }
            try await allowingRefusals { _ = try await store.addResource(key: key, kind: "file", name: "a", bytes: .max) }
        }
        for now in [Int64.max, Int64.min, TestStore.start] {
            test.clock.set(now)
            try await allowingRefusals { _ = try await sweeper.runPass() }
            try await allowingRefusals { _ = try await store.listEvents(after: 0, limit: 100) }
            try await allowingRefusals { _ = try await store.metricsSnapshot() }
        }
        await store.close()
        return false
    }

    private static func allowingRefusals(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch is SessionStoreError {
            // A refusal is an answer; only a trap or another kind of error is not.
        }
    }

    @Test func aSweepWhoseSparedSessionsStayDueEnds() async throws {
        let test = TestStore()
        try await test.withStore { $0.sweepBatchSize = 1 } body: { store in
            let key = try await store.openSession(userId: "ada", timeout: .after(.seconds(1))).key
            let execution = try await store.createExecution(key: key)
            #expect(try await store.session(key: execution.sessionKey)?.state == .active)
            // At the end of time a spared session's new expiry saturates at or before now.
            test.clock.set(.max)
            let report = try await store.sweep()
            #expect(report.sparedActiveSessions == 1)
            #expect(report.expiredSessions.isEmpty)
        }
    }

    // MARK: Sums

    @Test func resourceBytesNeverAddUpPastInt64() async throws {
        let test = TestStore()
        try await test.withStore { store in
            let key = try await store.openSession(userId: "ada").key
            try await store.addResource(key: key, kind: "file", name: "a", bytes: .max)
            let error = await #expect(throws: SessionStoreError.self) {
                try await store.addResource(key: key, kind: "file", name: "b", bytes: .max)
            }
            #expect(error?.code == "LIMIT_EXCEEDED.RESOURCE_BYTES_PER_SESSION")
            try await store.addResource(key: key, kind: "file", name: "empty", bytes: 0)
            #expect(try await store.listResources(key: key).map(\.name).sorted() == ["a", "empty"])
        }
    }

    // MARK: sessionctl arguments

    /// A `sessionctl` command with one number in it.
    struct CLIArgument: Sendable, CustomTestStringConvertible {
        let testDescription: String
        /// Whether the number takes a duration unit.
        var isDuration = false
        let arguments: @Sendable (_ key: String, _ value: String) -> [String]
    }

    static let cliArguments: [CLIArgument] = [
        CLIArgument(testDescription: "top --events") { _, value in ["top", "--once", "--events=\(value)"] },
        CLIArgument(testDescription: "top --interval", isDuration: true) { _, value in ["top", "--once", "--interval=\(value)"] },
        CLIArgument(testDescription: "list --limit") { _, value in ["list", "--limit=\(value)"] },
        CLIArgument(testDescription: "events --since") { _, value in ["events", "--since=\(value)"] },
        CLIArgument(testDescription: "events --limit") { _, value in ["events", "--limit=\(value)"] },
        CLIArgument(testDescription: "open --version") { _, value in ["open", "--user", "u", "--version=\(value)"] },
        CLIArgument(testDescription: "open --utc-offset") { _, value in ["open", "--user", "u", "--utc-offset=\(value)"] },
        CLIArgument(testDescription: "open --timeout", isDuration: true) { _, value in ["open", "--user", "u", "--timeout=\(value)"] },
        CLIArgument(testDescription: "exec create --timeout", isDuration: true) { key, value in ["exec", "create", key, "--timeout=\(value)"] },
        CLIArgument(testDescription: "resource add --bytes") { key, value in ["resource", "add", key, "file", "f\(value)", "--bytes=\(value)"] },
        CLIArgument(testDescription: "releases --limit") { _, value in ["releases", "--subscription", "s", "--limit=\(value)"] },
        CLIArgument(testDescription: "subscribe --limit") { _, value in ["subscribe", "s", "--limit=\(value)"] },
        CLIArgument(testDescription: "load --sessions") { _, value in ["load", "--sessions=\(value)", "--executions=0"] },
        CLIArgument(testDescription: "load --executions") { _, value in ["load", "--sessions=0", "--executions=\(value)"] },
        CLIArgument(testDescription: "load --concurrency") { _, value in ["load", "--sessions=0", "--concurrency=\(value)"] },
        CLIArgument(testDescription: "load --seed") { _, value in ["load", "--sessions=0", "--seed=\(value)"] },
        CLIArgument(testDescription: "load --timeout", isDuration: true) { _, value in ["load", "--sessions=0", "--timeout=\(value)"] },
        CLIArgument(testDescription: "bench --sessions") { _, value in ["bench", "--sessions=\(value)", "--due=0"] },
        CLIArgument(testDescription: "bench --due") { _, value in ["bench", "--due=\(value)", "--sessions=0"] },
        CLIArgument(testDescription: "bench --concurrency") { _, value in ["bench", "--concurrency=\(value)", "--sessions=0"] },
    ]

    /// Numbers past `Int64` too: what a user may type.
    static let cliNumbers = extremes.map(String.init) + ["18446744073709551615", "99999999999999999999"]

    /// One process per value, the arguments one after another: hundreds of processes at
    /// once would starve the other suites on a small machine. A duration takes each number
    /// in one unit, the units in turn, so every unit meets several extremes.
    @Test(.serialized, arguments: cliArguments)
    func everyNumericArgumentEndsWithAnAnswerOrAClearError(argument: CLIArgument) async throws {
        let db = CLIDatabase()
        let key = try await db.open(["--user", "ada"])
        let values =
            argument.isDuration
            ? Self.cliNumbers.enumerated().map { index, number in number + Self.units[index % Self.units.count] }
            : Self.cliNumbers
        try await Self.runAll(values.map { argument.arguments(key, $0) }, in: db)
        await propertyCheck(count: 3, input: Self.anyNumber) { number in
            try await Self.runAll([argument.arguments(key, "\(number)\(argument.isDuration ? "ms" : "")")], in: db)
        }
    }

    /// The values the configuration takes by name run a command with them; those it
    /// refuses are refused before a store opens, as the by-name test above shows in
    /// process, so one of them per option is enough here.
    @Test func everyNumericOptionThroughSetEndsWithAnAnswerOrAClearError() async throws {
        let db = CLIDatabase()
        let values = ["9223372036854775807", "-9223372036854775808", "9223372036854775807ms", "106751991167d", "-1"]
        var commands: [[String]] = []
        for name in Self.numericOptions {
            var refusedOnce = false
            for value in values {
                var configuration = SessionStoreConfiguration()
                let taken = (try? configuration.set(name, to: value)) != nil
                guard taken || !refusedOnce else { continue }
                refusedOnce = refusedOnce || !taken
                commands.append(["--set", "\(name)=\(value)", "list"])
            }
        }
        try await Self.runAll(commands, in: db)
    }

    /// Runs each command (two at a time, beside the other suites) and expects an exit,
    /// never a signal: 0, 1 with `error: CODE: ...`, or 64 with the usage error.
    private static func runAll(_ commands: [[String]], in db: CLIDatabase) async throws {
        try await withThrowingTaskGroup(of: (arguments: [String], result: CommandResult).self) { group in
            var pending = commands[...]
            func next() {
                guard let arguments = pending.popFirst() else { return }
                group.addTask { (arguments, try await db.run(arguments)) }
            }
            for _ in 0..<2 { next() }
            while let (arguments, result) = try await group.next() {
                let command = "sessionctl " + arguments.joined(separator: " ")
                #expect([0, 1, 64].contains(result.status), "\(command) exited \(result.status): \(result.stderr.prefix(600))")
                if result.status == 1 {
                    #expect(result.stderr.hasPrefix("error: "), "\(command): \(result.stderr.prefix(600))")
                }
                if result.status == 64 {
                    #expect(result.stderr.hasPrefix("Error: "), "\(command): \(result.stderr.prefix(600))")
                }
                next()
            }
        }
    }
}

extension SessionStoreConfiguration {
    /// This configuration on `clock`.
    fileprivate func with(clock: any WallClock) -> SessionStoreConfiguration {
        var configuration = self
        configuration.clock = clock
        return configuration
    }
}
