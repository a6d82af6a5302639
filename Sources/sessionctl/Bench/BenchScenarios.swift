import Foundation
import SessionStore
import Synchronization

/// The benchmark's scenarios. Each runs on its own fresh file (or on `--db`).
enum BenchScenario: String, CaseIterable, Sendable {
    /// `touch-batch` touches `--batch` keys in each call (`touch(keys:)`); its figure per
    /// second is batches, and `keysPerSecond` is keys.
    case open, touch, touchBatch = "touch-batch", get, close, execution, sweep, recover, mixed
}

struct BenchSettings: Sendable {
    var sessions: Int
    var concurrency: Int
    var durability: Durability
    var groupCommit: Bool
    /// Due sessions in the sweep scenario.
    var due: Int
    var directory: String
    var databasePath: String?
    var executable: String
    /// Measured calls of the touch, get and mixed scenarios; nil: `sessions`, at least 100,000.
    var operations: Int? = nil
    /// Keys per call of the touch-batch scenarios.
    var batch = 100
    /// Stores sweeping at once in the sweep scenario.
    var sweepers = 1

    /// The measured calls of a scenario that repeats calls on populated sessions.
    var repeatedOperations: Int { operations ?? max(sessions, 100_000) }

    func path(for scenario: BenchScenario) -> String {
        path(named: scenario.rawValue)
    }

    /// `--db`, else a fresh file in the temporary directory named after `scenario`.
    func path(named scenario: String) -> String {
        databasePath ?? (directory as NSString).appendingPathComponent("bench-\(scenario)-\(UUID().uuidString).sqlite")
    }

    func configuration(tick: Int64 = 60_000) -> SessionStoreConfiguration {
        var configuration = SessionStoreConfiguration()
        configuration.durability = durability
        configuration.maxWriteBatch = groupCommit ? 256 : 1
        // Four readers on both backends: on PostgreSQL more connections measured no faster
        // for touch at 50 callers on 2 cores (16 were slower: threads waking each other).
        configuration.readerCount = min(4, max(2, concurrency))
        configuration.tick = .milliseconds(tick)
        configuration.minTimeout = .milliseconds(1)
        return configuration
    }
}

struct BenchScenarioRunner: Sendable {
    let settings: BenchSettings
    /// Where a scenario's temporary file is registered while it runs.
    let scratch: BenchScratchFiles

    func run(_ scenario: BenchScenario) async throws -> BenchResult {
        var path = settings.path(for: scenario)
        // On PostgreSQL each scenario runs in a schema of its own, dropped after it.
        let schema = "sessionstore_bench_\(scenario.rawValue.replacingOccurrences(of: "-", with: "_"))_\(getpid())"
        let postgres = try StoreAddress(path).isPostgres ? path : nil
        if let postgres { path = try StoreAddress.postgres(postgres, schema: schema) }
        if settings.databasePath == nil { scratch.add(path) }
        defer {
            if settings.databasePath == nil { scratch.remove(path) }
            if let postgres { StoreAddress.dropSchema(postgres, schema: schema) }
        }
        BenchTally.shared.begin(scenario.rawValue, settings: settings, path: path)
        let (measurement, notes) = try await measure(scenario, path: path)
        let result = BenchResult(
            scenario: scenario.rawValue, settings: settings, measurement: measurement, peakRSSBytes: BenchRunner.peakRSS(),
            fileBytes: BenchRunner.fileSize(path) + BenchRunner.fileSize(path + "-wal"), notes: notes)
        BenchTally.shared.complete(result)
        return result
    }

    private func measure(_ scenario: BenchScenario, path: String) async throws -> (Measurement, [String: String]) {
        switch scenario {
        case .open: return (try await openScenario(path), [:])
        case .touch: return (try await touchScenario(path), [:])
        case .touchBatch: return (try await touchBatchScenario(path), [:])
        case .get: return (try await getScenario(path), [:])
        case .close: return (try await closeScenario(path), [:])
        case .execution: return (try await executionScenario(path), [:])
        case .sweep: return try await sweepScenario(path)
        case .recover: return try await recoverScenario(path)
        case .mixed: return (try await mixedScenario(path), [:])
        }
    }

    private var sessions: Int { settings.sessions }
    private var concurrency: Int { settings.concurrency }

    private func progress(_ label: String, _ total: Int) -> ProgressLine {
        ProgressLine(label, total: total)
    }

    /// Opens `count` plain sessions from 64 tasks; returns their keys.
    private func populate(_ store: SessionStore, count: Int, timeout: SessionTimeout = .after(.seconds(3600))) async throws -> KeyTable {
        try await BenchRunner.populate(count: count) { index in
            var request = OpenSessionRequest(userId: "user-\(index % 1000)")
            request.dataSource = "source-\(index % 8)"
            request.timeout = timeout
            return try await store.openSession(request).key
        }
    }

    private func openStore(_ path: String, tick: Int64 = 60_000) async throws -> SessionStore {
        try await StoreAddress(path).open(configuration: settings.configuration(tick: tick))
    }

    private func openScenario(_ path: String) async throws -> Measurement {
        let store = try await openStore(path)
        let children = try await populate(store, count: 64)
        let result = try await BenchRunner.measure(operations: sessions, concurrency: concurrency, progress: progress("open", sessions)) { index in
            var request = OpenSessionRequest(userId: "user-\(index % 1000)")
            request.dataSource = "source-\(index % 8)"
            request.details = ["device": "sensor-\(index)", "site": "site-\(index % 10)", "firmware": "1.2.\(index % 7)"]
            request.associates = [children[index % children.count]]
            _ = try await store.openSession(request)
        }
        await store.close()
        return result
    }

    /// Touches sessions whose expiry bucket does not move: the tick is an hour, so only
    /// crossing the hour would make a touch write.
    private func touchScenario(_ path: String) async throws -> Measurement {
        try await perSessionScenario(path, "touch", tick: 3_600_000, operations: settings.repeatedOperations) { store, key in
            _ = try await store.touch(key: key)
        }
    }

    /// Touches `--batch` sessions in each call, in the hour-long tick as `touch`: one read
    /// and no write a batch. As many keys in all as `touch` touches.
    private func touchBatchScenario(_ path: String) async throws -> Measurement {
        let store = try await openStore(path, tick: 3_600_000)
        let keys = try await populate(store, count: sessions)
        let batch = settings.batch
        let batches = max(1, settings.repeatedOperations / batch)
        let result = try await BenchRunner.measure(operations: batches, concurrency: concurrency, progress: progress("touch-batch", batches)) { index in
            let answers = try await store.touch(keys: (0..<batch).map { keys[(index * batch + $0) % keys.count] })
            guard answers.allSatisfy({ $0.result == .live }) else {
                throw SessionStoreError(code: .sessionNotFound, message: "a batch touch answered a key not live")
            }
        }
        await store.close()
        return result
    }

    private func getScenario(_ path: String) async throws -> Measurement {
        try await perSessionScenario(path, "get", operations: settings.repeatedOperations) { store, key in
            _ = try await store.session(key: key)
        }
    }

    private func closeScenario(_ path: String) async throws -> Measurement {
        try await perSessionScenario(path, "close", operations: sessions) { store, key in
            try await store.closeSession(key: key)
        }
    }

    /// Populates `sessions` sessions, then measures `operation` on them in turn.
    private func perSessionScenario(
        _ path: String, _ label: String, tick: Int64 = 60_000, operations: Int,
        _ operation: @escaping @Sendable (SessionStore, String) async throws -> Void
    ) async throws -> Measurement {
        let store = try await openStore(path, tick: tick)
        let keys = try await populate(store, count: sessions)
        let result = try await BenchRunner.measure(operations: operations, concurrency: concurrency, progress: progress(label, operations)) { index in
            try await operation(store, keys[index % keys.count])
        }
        await store.close()
        return result
    }

    private func executionScenario(_ path: String) async throws -> Measurement {
        let store = try await openStore(path)
        let keys = try await populate(store, count: max(1, concurrency))
        let result = try await BenchRunner.measure(operations: sessions, concurrency: concurrency, progress: progress("execution", sessions)) { index in
            let key = keys[index % keys.count]
            let execution = try await store.createExecution(key: key)
            for status in [ExecutionStatus.started, .finished, .closed] {
                try await store.setExecutionStatus(key: key, operationId: execution.operationId, to: status)
            }
        }
        await store.close()
        return result
    }

    /// Expires `due` sessions among `sessions` live ones, in three passes on fresh due
    /// sets; the figure is the median pass, all three are in the notes. One pass is a
    /// single sample on a noisy machine.
    private func sweepScenario(_ path: String) async throws -> (Measurement, [String: String]) {
        let store = try await openStore(path, tick: 1)
        // Further sweepers: stores of their own on the same database, as other hosts.
        var sweepers = [store]
        for _ in 1..<max(1, settings.sweepers) {
            sweepers.append(try await openStore(path, tick: 1))
        }
        _ = try await populate(store, count: sessions)
        let due = min(settings.due, max(1, sessions))
        var passes: [Duration] = []
        var reports: [[SweepReport]] = []
        for _ in 0..<Self.sweepPasses {
            _ = try await populate(store, count: due, timeout: .after(.milliseconds(1)))
            try await settle(store)
            try await Task.sleep(for: .milliseconds(20))
            let began = ContinuousClock.now
            let pass = try await withThrowingTaskGroup(of: SweepReport.self) { group in
                for sweeper in sweepers {
                    group.addTask { try await sweeper.sweep() }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            passes.append(ContinuousClock.now - began)
            reports.append(pass)
        }
        for sweeper in sweepers {
            await sweeper.close()
        }
        let result = BenchRunner.median(of: passes, operations: due)
        // Each pass has exactly `due` sessions to end: a session ended by two sweepers would
        // make the sum larger, one missed smaller.
        let ended = reports.map { pass in pass.reduce(0) { $0 + $1.expiredSessions.count } }
        var notes = [
            "expired": ended.map(String.init).joined(separator: ","),
            "rowsExamined": reports.map { pass in "\(pass.reduce(0) { $0 + $1.rowsExamined })" }.joined(separator: ","),
            "passMs": passes.map { "\($0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000)" }
                .joined(separator: ","),
            "live": "\(sessions)",
        ]
        if sweepers.count > 1 {
            notes["sweepers"] = "\(sweepers.count)"
            notes["endedBeyondDue"] = ended.map { "\($0 - due)" }.joined(separator: ",")
        }
        return (result, notes)
    }

    static let sweepPasses = 3

    /// Moves what populating left in the WAL into the file and flushes the system's dirty
    /// pages, so the measured pass does not share the disk with the write-back of a
    /// freshly written file (hundreds of MiB for a million sessions).
    private func settle(_ store: SessionStore) async throws {
        try await store.checkpointStorage(truncating: true)
        sync()
    }

    /// Opens a file whose last process was killed while holding `sessions` sessions that
    /// are all due by the time it reopens: recovery must be quick and must re-arm them.
    private func recoverScenario(_ path: String) async throws -> (Measurement, [String: String]) {
        let timeout: Int64 = 2000
        let store = try await openStore(path, tick: 100)
        _ = try await populate(store, count: sessions, timeout: .after(.milliseconds(timeout)))
        let populatedAt = ContinuousClock.now
        await store.close()
        try await killHolder(path)
        let waited = ContinuousClock.now - populatedAt
        if waited < .milliseconds(timeout + 300) {
            try await Task.sleep(for: .milliseconds(timeout + 300) - waited)
        }
        var recovered: SessionStore?
        let result = try await BenchRunner.measureOnce(operations: sessions) {
            recovered = try await openStore(path, tick: 100)
        }
        guard let recovered else { return (result, [:]) }
        let report = try await recovered.sweep()
        let notes = [
            "recovered": "\(recovered.recovery != nil)",
            "expiredByFirstSweep": "\(report.expiredSessions.count)",
            "rearmedByFirstSweep": "\(report.rearmedSessions)",
        ]
        await recovered.close()
        return (result, notes)
    }

    /// Starts `sessionctl serve` on the file and kills it with SIGKILL once it serves, so
    /// the file is left as a crashed process leaves it.
    private func killHolder(_ path: String) async throws {
        // `serve` logs to stderr: read it until the line saying it serves, and kill it
        // then, before its sweeper gets far.
        _ = try await KilledChild.run(
            settings.executable, ["serve", "--db", path, "--set", "tick=60s"], reading: .error,
            until: { String(decoding: $0, as: UTF8.self).contains("serving") })
    }

    /// A blend: 55% touch, 20% get, 10% details, 5% open, 5% close, 5% a short execution.
    private func mixedScenario(_ path: String) async throws -> Measurement {
        let store = try await openStore(path, tick: 1000)
        let keys = try await populate(store, count: sessions)
        let operations = settings.repeatedOperations
        let result = try await BenchRunner.measure(operations: operations, concurrency: concurrency, progress: progress("mixed", operations)) { index in
            var random = SplitMix64(seed: UInt64(index))
            let key = keys[Int(random.next() % UInt64(keys.count))]
            switch random.next() % 100 {
            case 0..<55:
                _ = try await store.touch(key: key)
            case 55..<75:
                _ = try await store.session(key: key)
            case 75..<85:
                try await ignoringClosed { try await store.updateDetails(key: key, ["step": "\(index)"]) }
            case 85..<90:
                _ = try await store.openSession(userId: "user-\(index % 1000)", dataSource: "source-\(index % 8)")
            case 90..<95:
                try await store.closeSession(key: key, reason: "mixed")
            default:
                try await ignoringClosed {
                    let execution = try await store.createExecution(key: key)
                    for status in [ExecutionStatus.started, .finished, .closed] {
                        try await store.setExecutionStatus(key: key, operationId: execution.operationId, to: status)
                    }
                }
            }
        }
        await store.close()
        return result
    }

    /// Runs `body`, accepting that the mixed workload closed the session meanwhile.
    private func ignoringClosed(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as SessionStoreError where error.code == SessionStoreError.Code.sessionClosed {
            return
        }
    }
}

/// Hands out indexes to concurrent workers.
final class Counter: Sendable {
    private let state = Mutex(0)

    func next(below limit: Int) -> Int? {
        state.withLock { value in
            guard value < limit else { return nil }
            defer { value += 1 }
            return value
        }
    }
}
