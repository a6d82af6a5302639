import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import NIOPosix
import SessionStore
import SessionStoreGRPC

/// The scenarios `bench --server` and `bench --spawn-server` run over gRPC.
enum NetworkBenchScenario: String, CaseIterable, Sendable {
    /// `touch` is a TouchSession call per ping; `touch-stream` sends each caller's pings
    /// over one TouchSessions call, one at a time, as a ZooKeeper client pings over its
    /// connection. `check` is the health service's Check, a call that reaches no
    /// storage: the most unary calls a second the transport carries here.
    /// `touch-batch` sends `--batch` keys in each TouchSessionBatch call.
    case open, touch, touchStream = "touch-stream", touchBatch = "touch-batch", get, check, notify
}

struct NetworkBenchSettings: Sendable {
    var base: BenchSettings
    /// The running server to measure; nil: each scenario starts its own.
    var server: BenchServer?
    /// HTTP/2 connections the callers share.
    var connections: Int
    /// Event loop threads of the benchmark's gRPC clients.
    var clientThreads: Int
    /// Stop-notification streams in the notify scenario.
    var subscribers: Int
    /// Sessions the notify scenario ends, one after the other.
    var ends: Int
    /// `--set NAME=VALUE` options for a started server, after the benchmark's own.
    var serverSettings: [String]

    /// The `--set` arguments that give a started server the configuration the in-process
    /// benchmark gives its store, then the caller's own.
    func serverArguments(tick: Int64) -> [String] {
        let configuration = base.configuration(tick: tick)
        let names = ["durability", "max-write-batch", "reader-count", "tick", "min-timeout"]
        let own = SessionStoreConfiguration.options.filter { names.contains($0.name) }.map {
            "\($0.name)=\($0.value(in: configuration))"
        }
        return (own + serverSettings).flatMap { ["--set", $0] }
    }
}

typealias SessionClient = Sessionstore_V1_SessionManagement.Client<HTTP2ClientTransport.Posix>
typealias HealthClient = Grpc_Health_V1_Health.Client<HTTP2ClientTransport.Posix>

/// HTTP/2 connections to one server; call `index` goes over connection `index % count`.
struct BenchConnections: Sendable {
    private let clients: [GRPCClient<HTTP2ClientTransport.Posix>]

    subscript(index: Int) -> SessionClient { SessionClient(wrapping: clients[index % clients.count]) }

    /// The health service over connection `index % count`.
    func health(_ index: Int) -> HealthClient { HealthClient(wrapping: clients[index % clients.count]) }

    /// Connects `count` clients to `server` on `threads` event loop threads of their own,
    /// runs `body`, then shuts them down.
    static func with<T: Sendable>(
        _ server: BenchServer, count: Int, threads: Int, _ body: (BenchConnections) async throws -> T
    ) async throws -> T {
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        defer { loops.shutdownGracefully { _ in } }
        let clients = try (0..<max(1, count)).map { _ in
            GRPCClient<HTTP2ClientTransport.Posix>(
                transport: try .http2NIOPosix(
                    target: .ipv4(address: server.host, port: server.port), transportSecurity: .plaintext,
                    eventLoopGroup: loops))
        }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for client in clients {
                group.addTask { try await client.runConnections() }
            }
            do {
                let value = try await body(BenchConnections(clients: clients))
                clients.forEach { $0.beginGracefulShutdown() }
                try await group.waitForAll()
                return value
            } catch {
                clients.forEach { $0.beginGracefulShutdown() }
                group.cancelAll()
                throw error
            }
        }
    }
}

/// Runs a scenario over gRPC against `settings.server`, or against a server started for
/// it on a fresh file (or `--db`), stopped with SIGTERM afterwards.
struct NetworkBenchRunner: Sendable {
    let settings: NetworkBenchSettings
    let scratch: BenchScratchFiles

    func run(_ scenario: NetworkBenchScenario) async throws -> BenchResult {
        let result = try await runRecorded(scenario)
        BenchTally.shared.complete(result)
        return result
    }

    private func runRecorded(_ scenario: NetworkBenchScenario) async throws -> BenchResult {
        if let server = settings.server {
            BenchTally.shared.begin(scenario.rawValue, settings: settings.base, path: nil)
            var result = try await measure(scenario, on: server, path: nil)
            // Whatever the running server was configured with.
            result.durability = "unknown"
            return result
        }
        let base = settings.base
        let path = base.path(named: "grpc-\(scenario.rawValue)")
        BenchTally.shared.begin(scenario.rawValue, settings: base, path: path)
        if base.databasePath == nil { scratch.add(path) }
        defer {
            if base.databasePath == nil { scratch.remove(path) }
        }
        // As in process: touches within the hour-long tick never move a session's bucket.
        let arguments = settings.serverArguments(tick: [.touch, .touchStream, .touchBatch].contains(scenario) ? 3_600_000 : 60_000)
        return try await BenchServer.spawned(executable: base.executable, path: path, arguments: arguments, scratch: scratch) {
            try await measure(scenario, on: $0, path: path)
        }
    }

    private func measure(_ scenario: NetworkBenchScenario, on server: BenchServer, path: String?) async throws -> BenchResult {
        let (measurement, scenarioNotes) = try await BenchConnections.with(server, count: settings.connections, threads: settings.clientThreads) { connections in
            switch scenario {
            case .open: return (try await openScenario(connections), [String: String]())
            case .touch: return (try await touchScenario(connections), [:])
            case .touchStream: return (try await touchStreamScenario(connections), [:])
            case .touchBatch: return (try await touchBatchScenario(connections), [:])
            case .get: return (try await getScenario(connections), [:])
            case .check: return (try await checkScenario(connections), [:])
            case .notify: return try await notifyScenario(connections)
            }
        }
        var notes = scenarioNotes
        notes["transport"] = "grpc"
        notes["server"] = "\(server.host):\(server.port)"
        notes["connections"] = "\(settings.connections)"
        notes["clientThreads"] = "\(settings.clientThreads)"
        notes["clientPeakRSSBytes"] = "\(BenchRunner.peakRSS())"
        // Read while the server still runs: its peak, not the bench's own.
        return BenchResult(
            scenario: scenario.rawValue, settings: settings.base, measurement: measurement,
            peakRSSBytes: server.pid.map { BenchRunner.peakRSS(of: $0) } ?? 0,
            fileBytes: path.map { BenchRunner.fileSize($0) + BenchRunner.fileSize($0 + "-wal") } ?? 0, notes: notes)
    }

    private var sessions: Int { settings.base.sessions }
    private var concurrency: Int { settings.base.concurrency }

    /// Opens `count` plain sessions of `dataSource` from 64 callers; returns their keys.
    private func populate(_ connections: BenchConnections, count: Int, dataSource: String? = nil) async throws -> KeyTable {
        try await BenchRunner.populate(count: count) { index in
            var request = Sessionstore_V1_CreateSessionRequest()
            request.userID = "user-\(index % 1000)"
            request.dataSource = dataSource ?? "source-\(index % 8)"
            return try await connections[index].createSession(request).sessionKey
        }
    }

    private func openScenario(_ connections: BenchConnections) async throws -> Measurement {
        let children = try await populate(connections, count: 64)
        return try await BenchRunner.measure(
            operations: sessions, concurrency: concurrency, progress: ProgressLine("open", total: sessions)
        ) { index in
            var request = Sessionstore_V1_CreateSessionRequest()
            request.userID = "user-\(index % 1000)"
            request.dataSource = "source-\(index % 8)"
            request.details = ["device": "sensor-\(index)", "site": "site-\(index % 10)", "firmware": "1.2.\(index % 7)"]
            request.associateSessionKeys = [children[index % children.count]]
            _ = try await connections[index].createSession(request)
        }
    }

    private func touchScenario(_ connections: BenchConnections) async throws -> Measurement {
        try await perSessionScenario(connections, "touch") { client, key in
            var request = Sessionstore_V1_TouchSessionRequest()
            request.sessionKey = key
            _ = try await client.touchSession(request)
        }
    }

    /// Each caller opens one TouchSessions call and sends its pings over it one at a
    /// time: a ping is timed from its write to its answer.
    private func touchStreamScenario(_ connections: BenchConnections) async throws -> Measurement {
        let keys = try await populate(connections, count: sessions)
        return try await measureRepeated("touch-stream") { caller, calls in
            // The pings are written from the task that reads the answers: the request's
            // writer is handed out and its producer waits until the pings end, so a ping
            // costs no hand-off between the two.
            let (writers, handOut) = AsyncStream.makeStream(of: RPCWriter<Sessionstore_V1_TouchSessionRequest>.self)
            let (done, finish) = AsyncStream.makeStream(of: Void.self)
            let request = StreamingClientRequest<Sessionstore_V1_TouchSessionRequest> { writer in
                handOut.yield(writer)
                handOut.finish()
                for await _ in done {}
            }
            try await connections[caller].touchSessions(request: request) { response in
                defer { finish.finish() }
                // Refused at once: the producer may never run to hand out its writer.
                if case .failure(let error) = response.accepted { throw error }
                var answers = response.messages.makeAsyncIterator()
                var handedOut = writers.makeAsyncIterator()
                guard let writer = await handedOut.next() else { return }
                try await calls.run { index in
                    var ping = Sessionstore_V1_TouchSessionRequest()
                    ping.sessionKey = keys[index % keys.count]
                    try await writer.write(ping)
                    guard let answer = try await answers.next(), answer.live else {
                        throw BenchServer.Failure(description: "a ping over TouchSessions was not answered live")
                    }
                }
            }
        }
    }

    /// `--batch` keys in each TouchSessionBatch call; as many keys in all as `touch`.
    private func touchBatchScenario(_ connections: BenchConnections) async throws -> Measurement {
        let keys = try await populate(connections, count: sessions)
        let batch = settings.base.batch
        let batches = max(1, settings.base.repeatedOperations / batch)
        return try await BenchRunner.measure(
            operations: batches, concurrency: concurrency, progress: ProgressLine("touch-batch", total: batches)
        ) { index in
            var request = Sessionstore_V1_TouchSessionBatchRequest()
            request.sessionKeys = (0..<batch).map { keys[(index * batch + $0) % keys.count] }
            let answer = try await connections[index].touchSessionBatch(request)
            guard answer.results.count == batch, answer.results.allSatisfy({ $0.result == .live }) else {
                throw BenchServer.Failure(description: "a TouchSessionBatch answered a key not live")
            }
        }
    }

    private func getScenario(_ connections: BenchConnections) async throws -> Measurement {
        try await perSessionScenario(connections, "get") { client, key in
            var request = Sessionstore_V1_GetSessionInfoRequest()
            request.sessionKey = key
            _ = try await client.getSessionInfo(request)
        }
    }

    private func checkScenario(_ connections: BenchConnections) async throws -> Measurement {
        try await measureRepeated("check") { index in
            let answer = try await connections.health(index).check(Grpc_Health_V1_HealthCheckRequest())
            guard answer.status == .serving else {
                throw BenchServer.Failure(description: "the server answered Check with \(answer.status)")
            }
        }
    }

    /// Opens `sessions` sessions, then measures `operation` on them in turn.
    private func perSessionScenario(
        _ connections: BenchConnections, _ label: String,
        _ operation: @escaping @Sendable (SessionClient, String) async throws -> Void
    ) async throws -> Measurement {
        let keys = try await populate(connections, count: sessions)
        return try await measureRepeated(label) { index in
            try await operation(connections[index], keys[index % keys.count])
        }
    }

    /// `--operations` calls of `operation` from `--concurrency` callers.
    private func measureRepeated(
        _ label: String, _ operation: @escaping @Sendable (Int) async throws -> Void
    ) async throws -> Measurement {
        try await measureRepeated(label) { _, calls in try await calls.run(operation) }
    }

    /// `--operations` calls from `--concurrency` callers, each set up by `caller`
    /// (``BenchRunner/measure(operations:concurrency:progress:caller:)``).
    private func measureRepeated(
        _ label: String, caller: @escaping @Sendable (_ number: Int, _ calls: CallerCalls) async throws -> Void
    ) async throws -> Measurement {
        let operations = settings.base.repeatedOperations
        return try await BenchRunner.measure(
            operations: operations, concurrency: concurrency, progress: ProgressLine(label, total: operations), caller: caller)
    }

    private func end(_ key: String, over client: SessionClient) async throws {
        var request = Sessionstore_V1_EndSessionRequest()
        request.sessionKey = key
        _ = try await client.endSession(request)
    }

    /// Opens `subscribers` stop-notification streams on one data source, waits until each
    /// has delivered a probe (a session ended for the purpose: a stream carries no
    /// history), then ends `ends` sessions one after the other. A delivery's latency runs
    /// from just before its EndSession call to the subscriber's receipt; the next session
    /// ends once every subscriber has it, or after 10 s.
    private func notifyScenario(_ connections: BenchConnections) async throws -> (Measurement, [String: String]) {
        let subscribers = settings.subscribers
        let ends = settings.ends
        let probeLimit = 60
        let dataSource = "bench-notify"
        let keys = try await populate(connections, count: ends + probeLimit, dataSource: dataSource)
        let tracker = DeliveryTracker(subscribers: subscribers)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for subscriber in 0..<subscribers {
                group.addTask {
                    var request = Sessionstore_V1_GetSessionStopNotificationRequest()
                    request.dataSource = dataSource
                    do {
                        try await connections[subscriber].getSessionStopNotification(request) { response in
                            for try await stop in response.messages {
                                tracker.received(stop.sessionKey, by: subscriber)
                            }
                        }
                    } catch {
                        if !Task.isCancelled { tracker.streamFailed() }
                    }
                }
            }
            let attachBegan = ContinuousClock.now
            var probes = 0
            while tracker.attached < subscribers {
                guard probes < probeLimit, tracker.failedStreams == 0 else {
                    throw BenchServer.Failure(
                        description: "\(tracker.attached) of \(subscribers) stop streams delivered after \(probes) probes; \(tracker.failedStreams) failed")
                }
                try await end(keys[ends + probes], over: connections[probes])
                probes += 1
                try await tracker.wait(timeout: .seconds(1)) { $0.attached >= subscribers }
            }
            let attachTook = ContinuousClock.now - attachBegan
            let bar = ProgressLine("notify", total: ends)
            defer { bar.finish() }
            let began = ContinuousClock.now
            for index in 0..<ends {
                let key = keys[index]
                tracker.expect(key)
                try await end(key, over: connections[index])
                try await tracker.wait(timeout: .seconds(10)) { $0.pending[key] == nil }
                bar.add()
            }
            let elapsed = ContinuousClock.now - began
            group.cancelAll()
            try await group.waitForAll()
            let (histogram, delivered) = tracker.results
            let notes = [
                "subscribers": "\(subscribers)", "ends": "\(ends)", "delivered": "\(delivered)",
                "expected": "\(ends * subscribers)", "probes": "\(probes)", "failedStreams": "\(tracker.failedStreams)",
                "attachMillis": "\(attachTook.components.seconds * 1000 + attachTook.components.attoseconds / 1_000_000_000_000_000)",
            ]
            return (Measurement(operations: delivered, elapsed: elapsed, histogram: histogram), notes)
        }
    }
}
