import ArgumentParser
import Foundation
import GRPCCore
import SessionStore

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput, latency, memory and file size of the store's operations.",
        discussion: """
            Scenarios: open (a session with 3 details and one associate link), touch (bucket unchanged), get, \
            close, execution (create → started → finished → closed), sweep (expire --due sessions among \
            --sessions live), recover (reopen a file whose process was killed holding --sessions sessions, \
            then sweep), mixed (55% touch, 20% get, 10% details, 5% open, 5% close, 5% execution). Each \
            runs on a fresh temporary file, removed afterwards and on SIGINT or SIGTERM, unless --db is given. \
            On a terminal a line on stderr shows each phase's progress and rate. Ctrl-C prints what was measured \
            so far, the scenario under way with its partial figures (notes: interrupted), and exits 130. \
            Use a release build for real figures: \
            swift run -c release sessionctl bench.

            Over the network: --server HOST:PORT measures a running `sessionctl serve --listen`, \
            --spawn-server starts one per scenario (`serve --listen 127.0.0.1:0` on a fresh file, given the \
            benchmark's durability, group commit and --set options) and stops it with SIGTERM afterwards. \
            The scenarios are then open, touch and get, as above but each call a gRPC call; touch-stream, \
            each caller's pings one at a time over one TouchSessions stream; check, the health service's \
            Check (no storage: the transport's own ceiling); and notify \
            (--subscribers stop-notification streams on one data source, then --ends sessions ended one \
            after the other; the latency is from just before EndSession to each subscriber's receipt, \
            the operations are deliveries). PEAK RSS is the started server's; the bench's own is in the notes.
            """)

    @Option(help: "A scenario, or all.") var scenario = "all"
    @Option(help: "Sessions (and operations) per scenario.") var sessions = 10_000
    @Option(help: "Concurrent callers.") var concurrency = 1
    @Option(help: "Measured calls of touch, get and mixed (default: --sessions, at least 100000).") var operations: Int?
    @Option(help: "normal or full.") var durability = "normal"
    @Option(help: "Keys per call in the touch-batch scenario, 1 to 1000.") var batch = 100
    @Option(help: "Due sessions in the sweep scenario.") var due = 10_000
    @Option(
        help: """
            Stores sweeping the same database at once in the sweep scenario, each with connections of its own \
            (hosts of a cluster, on PostgreSQL); the figure is sessions ended per second by all of them.
            """)
    var sweepers = 1
    @Flag(name: .customLong("no-group-commit"), help: "One transaction per write request.") var noGroupCommit = false
    @Flag(help: "Run each scenario with and without group commit and print the ratio.") var compare = false
    @Option(help: ArgumentHelp("Measure a running gRPC server (sessionctl serve --listen).", valueName: "HOST:PORT"))
    var server: String?
    @Flag(help: "Start a gRPC server for each scenario and measure it over the network.") var spawnServer = false
    @Option(
        help: """
            HTTP/2 connections the concurrent callers share (network scenarios). On 2 cores shared with the \
            server, one connection was fastest for touch at 50 callers (2 and 4 were 10-20% slower).
            """)
    var connections = 1
    @Option(
        help: """
            Event loop threads of the benchmark's gRPC clients. On 2 cores shared with the server, one thread \
            was about 25% faster than two for touch at 50 callers.
            """)
    var clientThreads = 1
    @Option(help: "Stop-notification streams in the notify scenario.") var subscribers = 1000
    @Option(help: "Sessions the notify scenario ends, one after the other.") var ends = 50
    @OptionGroup var global: GlobalOptions

    private var overNetwork: Bool { server != nil || spawnServer }

    func validate() throws {
        if overNetwork {
            guard server == nil || !spawnServer else { throw ValidationError("--server and --spawn-server exclude each other") }
            guard scenario == "all" || NetworkBenchScenario(rawValue: scenario) != nil else {
                throw ValidationError(
                    "over the network --scenario takes all or one of \(NetworkBenchScenario.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard !compare else { throw ValidationError("--compare runs in process only") }
            guard (1...64).contains(connections), (1...64).contains(clientThreads), (1...100_000).contains(subscribers), ends >= 1 else {
                throw ValidationError(
                    "--connections and --client-threads must be within 1...64, --subscribers within 1...100000, --ends at least 1")
            }
            if let server { _ = try ListenOptions.parse(server) }
        } else {
            guard scenario == "all" || BenchScenario(rawValue: scenario) != nil else {
                throw ValidationError("--scenario takes all or one of \(BenchScenario.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
        guard Durability(rawValue: durability) != nil else { throw ValidationError("--durability takes normal or full") }
        guard (1...SessionStore.maxTouchBatch).contains(batch) else {
            throw ValidationError("--batch takes a count from 1 to \(SessionStore.maxTouchBatch), not \(batch)")
        }
        guard (1...16).contains(sweepers) else { throw ValidationError("--sweepers must be within 1...16") }
        let counts = 1...1_000_000_000
        guard counts.contains(sessions), (1...4096).contains(concurrency), counts.contains(due), counts.contains(operations ?? 1) else {
            throw ValidationError("--sessions, --operations and --due must be within 1...1000000000, --concurrency within 1...4096")
        }
    }

    func run() async throws {
        let scenarios = scenario == "all" ? BenchScenario.allCases : [BenchScenario(rawValue: scenario)].compactMap { $0 }
        let directory = FileManager.default.temporaryDirectory.path
        let settings = BenchSettings(
            sessions: sessions, concurrency: concurrency, durability: Durability(rawValue: durability) ?? .normal,
            groupCommit: !noGroupCommit, due: due, directory: directory, databasePath: global.db,
            executable: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path, operations: operations,
            batch: batch, sweepers: sweepers)
        var results: [BenchResult] = []
        var ratios: [(BenchScenario, Double)] = []
        let scratch = BenchScratchFiles()
        // Only --db names a file of the user's; the scenarios' own files are temporary.
        let named = global.db.map(DatabaseFile.init(path:))
        defer { named?.announceCreation(global.output) }
        ProgressLine.enable(json: global.json)
        let json = global.json
        do {
            try await scratch.removingOnInterrupt(interrupted: { signal in
                if signal == SIGINT { Self.printInterrupted(json: json) }
            }) {
                if overNetwork {
                    results = try await runOverNetwork(settings, scratch: scratch)
                    return
                }
                for scenario in scenarios {
                    if compare {
                        var with = settings
                        with.groupCommit = true
                        var without = settings
                        without.groupCommit = false
                        let grouped = try await BenchScenarioRunner(settings: with, scratch: scratch).run(scenario)
                        var single = try await BenchScenarioRunner(settings: without, scratch: scratch).run(scenario)
                        if let flush = BenchRunner.flushMicros(directory: directory) {
                            // What each commit alone waits for at the least: the disk's flush.
                            single.notes["flushMicros"] = String(format: "%.0f", flush)
                        }
                        results += [grouped, single]
                        ratios.append((scenario, single.opsPerSecond > 0 ? grouped.opsPerSecond / single.opsPerSecond : 0))
                    } else {
                        results.append(try await BenchScenarioRunner(settings: settings, scratch: scratch).run(scenario))
                    }
                }
            }
        } catch let error as SessionStoreError {
            global.output.printError(code: error.code.rawValue, message: error.message)
            throw ExitCode(1)
        }
        if global.json {
            try global.output.printJSON(results)
        } else {
            Self.printTable(results)
        }
        for (scenario, ratio) in ratios {
            var line = "\(scenario.rawValue): group commit is \(String(format: "%.1f", ratio))× the throughput without it"
            if let flush = results.last(where: { $0.scenario == scenario.rawValue })?.notes["flushMicros"] {
                line += " (4 KiB + fdatasync on this disk: \(flush) µs)"
            }
            line += "\n"
            FileHandle.standardError.write(Data(line.utf8))
            if !global.json { Output.printText(line) }
        }
    }

    private func runOverNetwork(_ settings: BenchSettings, scratch: BenchScratchFiles) async throws -> [BenchResult] {
        let scenarios = scenario == "all" ? NetworkBenchScenario.allCases : [NetworkBenchScenario(rawValue: scenario)].compactMap { $0 }
        let running = try server.map { address in
            let (host, port) = try ListenOptions.parse(address)
            return BenchServer(host: host, port: port, pid: nil)
        }
        let network = NetworkBenchSettings(
            base: settings, server: running, connections: connections, clientThreads: clientThreads, subscribers: subscribers, ends: ends,
            serverSettings: global.settings)
        var results: [BenchResult] = []
        do {
            for scenario in scenarios {
                results.append(try await NetworkBenchRunner(settings: network, scratch: scratch).run(scenario))
            }
        } catch let error as RPCError {
            // The store's stable code, as the server sends it, else the gRPC status.
            let code = error.metadata[stringValues: "sessionstore-error-code"].first(where: { _ in true }) ?? "GRPC.\(error.code)"
            global.output.printError(code: code, message: error.message)
            throw ExitCode(1)
        }
        return results
    }

    /// What a run stopped with Ctrl-C measured: the scenarios it completed and the partial
    /// figures of the one under way (``BenchTally``), as the run would have printed them,
    /// and in text a line on stderr naming the scenario cut short.
    private static func printInterrupted(json: Bool) {
        ProgressLine.clearActive()
        let results = BenchTally.shared.soFar()
        if json {
            try? Output(json: true).printJSON(results)
            return
        }
        printTable(results)
        if let cut = results.last, let note = cut.notes["interrupted"] {
            FileHandle.standardError.write(Data("interrupted: \(cut.scenario) stopped \(note); its figures are partial\n".utf8))
        }
    }

    /// The results for a person: sizes in KiB, MiB or GiB (notes named `...Bytes` too).
    private static func printTable(_ results: [BenchResult]) {
        func number(_ value: Double) -> String { String(format: value >= 100 ? "%.0f" : "%.1f", value) }
        func note(_ name: String, _ value: String) -> String {
            guard name.hasSuffix("Bytes"), let bytes = Int64(value) else { return "\(name)=\(value)" }
            return "\(name.dropLast("Bytes".count))=\(ByteCount.human(bytes))"
        }
        Output(json: false).printTable(
            ["SCENARIO", "DURABILITY", "GROUP", "CONC", "SESSIONS", "OPS", "OPS/S", "P50 µs", "P99 µs", "P99.9 µs", "MAX µs", "PEAK RSS", "FILE", "NOTES"],
            results.map {
                [
                    $0.scenario, $0.durability, $0.groupCommit ? "yes" : "no", "\($0.concurrency)", "\($0.sessions)",
                    "\($0.operations)", number($0.opsPerSecond), number($0.p50Micros), number($0.p99Micros),
                    number($0.p999Micros), number($0.maxMicros), ByteCount.human($0.peakRSSBytes), ByteCount.human($0.fileBytes),
                    $0.notes.sorted { $0.key < $1.key }.map { note($0.key, $0.value) }.joined(separator: " "),
                ]
            })
    }
}
