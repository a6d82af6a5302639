import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import SessionStore
import SessionStoreGRPC

/// A logger writing to stderr at `level` and above, for commands that run for a while:
/// text lines, or with `json` one JSON object a line (``JSONLogHandler``).
func commandLogger(_ label: String, level: Logger.Level, json: Bool) -> Logger {
    var logger = Logger(label: label) { label -> any LogHandler in
        json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
    }
    logger.logLevel = level
    return logger
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

struct SweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run one sweep: expire due sessions, abandon and time out executions, prune retained rows.",
        discussion: "On a terminal, without --json, a line on stderr shows the due sessions examined so far and the rate.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        ProgressLine.enable(json: global.json)
        let report = try await withStore(global) { store in
            guard ProgressLine.isEnabled else { return try await store.sweep() }
            let progress = ProgressLine("sweep", total: try await store.dueSessionCount())
            defer { progress.finish() }
            return try await store.sweep(progress: { progress.set($0) })
        }
        if global.json {
            try global.output.printJSON(report)
            return
        }
        Output.printLine("expired sessions:      \(report.expiredSessions.count)")
        report.expiredSessions.keys.forEach { Output.printLine("  \($0)") }
        if !report.expiredSessions.isComplete {
            Output.printLine("  ... and \(report.expiredSessions.count - report.expiredSessions.keys.count) more (session.ended events)")
        }
        Output.printLine("re-armed sessions:     \(report.rearmedSessions)")
        Output.printLine("spared (running):      \(report.sparedActiveSessions)")
        Output.printLine("rows examined:         \(report.rowsExamined)")
        Output.printLine("abandoned executions:  \(report.maintenance.abandonedOperations.count)")
        Output.printLine("timed-out executions:  \(report.maintenance.timedOutOperations.count)")
        Output.printLine("pruned queries:        \(report.maintenance.prunedQueries)")
        Output.printLine("pruned tombstones:     \(report.prunedSessions)")
        Output.printLine("pruned events:         \(report.prunedEvents)")
        Output.printLine("pruned subscriptions:  \(report.prunedSubscriptions)")
        Output.printLine("cleared requests:      \(report.clearedRequests)")
    }
}

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Recover the file, then keep the heartbeat and the sweeper running until SIGINT or SIGTERM; with --listen, serve the gRPC API too; with --metrics, GET /metrics; with --http, the web view.",
        discussion: """
            Logs to stderr. On SIGINT or SIGTERM the sweeper finishes its pass, the gRPC server (with --listen) \
            drains — no new calls, streams end with UNAVAILABLE, calls in flight finish — the store closes \
            cleanly, and a last log line says so. With --http the web view's live streams end and its \
            requests in flight finish too. At the default level, info, the log shows serve's own lines \
            (serving, what recovery found, the clean stop) and the store's warnings (a failed sweep, the \
            storm guard); debug adds a line per session opened, refused or ended and per maintenance pass. \
            With --json each log line is one JSON object (JSON Lines) on stderr: {"timestamp","level",\
            "label","message","metadata"}; stdout stays empty.
            """)

    @Option(help: "The lowest level logged.")
    var logLevel: Logger.Level = .info
    @OptionGroup(title: "Network") var network: ListenOptions
    @Option(
        help: ArgumentHelp(
            "Serve GET /metrics (Prometheus text: the file's figures, then this process's own metrics) on HOST:PORT (port 0: any free port, logged); loopback only unless --insecure.",
            valueName: "HOST:PORT"))
    var metrics: String?
    @Option(
        help: ArgumentHelp(
            "Serve the operator's web view (pages, live updates, /metrics, /healthz) on HOST:PORT (port 0: any free port, logged). With --auth token and --token-file it asks for a token (a login form); with --tls-cert and --tls-key it serves HTTPS. A non-loopback address needs both.",
            valueName: "HOST:PORT"))
    var http: String?
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let listen = try network.configuration(webServed: http != nil)
        let metricsAddress = try metrics.map { try MetricsEndpoint.address($0, insecure: network.insecure) }
        let web = try http.map { try WebEndpoint.Settings($0, network: network) }
        let logger = commandLogger("sessionctl.serve", level: logLevel, json: global.json)
        // Before the store and the gRPC server are made: both take the bootstrapped factory.
        let registry = metricsAddress.map { _ in ServeExposition.bootstrap() }
        let openFiles = OpenFileLimit.raise()
        if let listen, let openFiles, UInt64(listen.maxConnections) + 64 > openFiles {
            logger.warning(
                "--max-connections is close to the open-file limit: connections past it will fail to be accepted",
                metadata: ["grpc.max_connections": "\(listen.maxConnections)", "process.open_file_limit": "\(openFiles)"])
        }
        var configuration = try global.makeConfiguration()
        configuration.logger = logger
        try await withStore(global, configuration: configuration) { store in
            if let recovery = store.recovery {
                var metadata: Logger.Metadata = [
                    "recovery.dead_instances": "\(recovery.deadInstances)",
                    "recovery.failed_executions": "\(recovery.failedExecutions)",
                    "recovery.detached_executions": "\(recovery.detachedExecutions)",
                    "recovery.ended_sessions": "\(recovery.endedSessions)",
                ]
                metadata["recovery.rearm_epoch"] = recovery.rearmEpoch.map { "\($0.iso8601)" }
                metadata["recovery.serving_last_seen"] = recovery.servingLastSeen.map { "\($0.iso8601)" }
                logger.info("recovered", metadata: metadata)
            }
            // Serving from here: a kill after the "serving" line re-arms at the next open.
            let sweeper = ExpirySweeper(store: store)
            try await sweeper.startServing()
            let server = listen.map { SessionStoreGRPCServer(store: store, configuration: $0, logger: logger) }
            // "serving" is logged by the group's first service: by then the group traps
            // SIGTERM and SIGINT, so a signal sent on seeing the line stops serve cleanly.
            let announcement = ServingAnnouncement(
                logger: logger, metadata: ["store.path": "\(store.path)", "process.pid": "\(getpid())"])
            var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
                .init(service: announcement, successTerminationBehavior: .ignore), .init(service: sweeper),
            ]
            if let server { services.append(.init(service: server)) }
            let exposition = registry.map { ServeExposition(store: store, registry: $0) }
            if let metricsAddress, let exposition {
                services.append(
                    .init(
                        service: MetricsEndpoint(
                            host: metricsAddress.host, port: metricsAddress.port, logger: logger, exposition: exposition.text)))
            }
            if let web {
                services += try WebEndpoint.services(store: store, settings: web, logger: logger, metrics: exposition?.text)
            }
            let group = ServiceGroup(
                configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                if let server, let listen {
                    tasks.addTask {
                        // The bound port (the one the system chose for port 0), once listening.
                        guard let port = try? await server.listeningPort else { return }
                        logger.info("listening", metadata: ["grpc.address": "\(listen.host):\(port)"])
                    }
                }
                try await tasks.waitForAll()
            }
        }
        logger.info("stopped cleanly", metadata: ["store.path": "\(global.databasePath)"])
    }
}

/// Logs that serve is serving, once, as its service group starts.
private struct ServingAnnouncement: Service {
    let logger: Logger
    let metadata: Logger.Metadata

    func run() async {
        logger.info("serving", metadata: metadata)
    }
}

struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print sessions as they start and stop, from any process on the file, until interrupted.",
        discussion: """
            No history: only sessions started or stopped after the command begins. Each line says when, \
            start or stop, the session key, its data source and its user, and for a stop the end state \
            (closed, expired or failed) and the reason. With --json, one object a line (JSON Lines): \
            {"event": "start" or "stop", "seq", "at", "sessionKey", "dataSource", "userId", "state", \
            "reason"}, with state and reason null for a start.
            """)

    @Option(name: .customLong("data-source"), help: "Only sessions of this data source.") var dataSource: String?
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await withStoreUntilStopped(global) { store in
            // The store filters by data source, as its notification streams do.
            for try await event in try await store.sessionChanges(dataSource: dataSource) {
                guard let change = WatchedChange(event) else { continue }
                if global.json {
                    try global.output.printJSON(change)
                } else {
                    Output.printLine(change.line)
                }
            }
        }
    }
}

/// A session starting or stopping, as `watch` prints it.
struct WatchedChange: Encodable {
    let event: String
    let seq: Int64
    let at: Timestamp
    let sessionKey: String
    let dataSource: String
    let userId: String?
    /// The end state and its reason, for a stop.
    let state: String?
    let reason: String?

    /// The change an event records; `nil` for other events.
    init?(_ event: StoreEvent) {
        let stopped = event.kind == EventKind.sessionEnded
        guard stopped || event.kind == EventKind.sessionStarted, let key = event.sessionKey, let source = event.dataSource
        else { return nil }
        self.event = stopped ? "stop" : "start"
        seq = event.seq
        at = event.at
        sessionKey = key
        dataSource = source
        userId = event.userId
        state = stopped ? event.payload["state"] : nil
        reason = stopped ? event.payload["reason"] : nil
    }

    private enum CodingKeys: String, CodingKey {
        case event, seq, at, sessionKey, dataSource, userId, state, reason
    }

    /// Every key on every line, absent values as null.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(event, forKey: .event)
        try container.encode(seq, forKey: .seq)
        try container.encode(at, forKey: .at)
        try container.encode(sessionKey, forKey: .sessionKey)
        try container.encode(dataSource, forKey: .dataSource)
        try container.encode(userId, forKey: .userId)
        try container.encode(state, forKey: .state)
        try container.encode(reason, forKey: .reason)
    }

    /// `AT  start  KEY  SOURCE  USER`, and for a stop `  STATE (REASON)` after it.
    var line: String {
        var line = "\(at.iso8601)  \(event.padding(toLength: 5, withPad: " ", startingAt: 0))  \(sessionKey)  \(dataSource)  \(userId ?? "-")"
        if event == "stop" {
            line += "  \(state ?? "-") (\(reason ?? "-"))"
        }
        return line
    }
}

struct SubscribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subscribe",
        abstract: "Print the events a durable subscription has not acknowledged yet.",
        discussion: """
            With --ack the printed events are acknowledged, so the next run starts after them; without it they \
            are printed again next time. With --json: one array of events (as `events --json` prints them); \
            with --follow, one event object a line (JSON Lines).
            """)

    @Argument(help: "The subscription's name.") var name: String
    @Flag(help: "Acknowledge the printed events.") var ack = false
    @Flag(help: "Keep printing new events until interrupted.") var follow = false
    @Option(help: "Without --follow, at most this many events.") var limit = 1000
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await withStoreUntilStopped(global) { store in
            let subscription = try store.subscription(named: name)
            var pending: [StoreEvent] = []
            try await ConsumerOutput<EventStream<StoreEvent>>(
                follow: follow, ack: ack, seq: \.seq, acknowledge: { try await subscription.acknowledge(through: $0) },
                print: global.output.printEventLine, printPending: printEvents
            ).run(
                pending: {
                    pending = try await subscription.listPendingEvents(limit: limit)
                    return pending
                }, stream: { try await subscription.events() })
            guard !global.json else { return }
            try await ListingNote.pending(
                store, printed: pending.count, last: pending.last?.seq, limit: limit, kind: nil, noun: "events", acknowledged: ack
            ).map(ListingNote.print)
        }
    }

    private func printEvents(_ pending: [StoreEvent]) throws {
        if global.json {
            try global.output.printEvents(pending)
        } else {
            try pending.forEach(global.output.printEventLine)
        }
    }
}
