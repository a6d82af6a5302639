import ArgumentParser
import SessionStore

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Print whether a process serves the file, the schema version, file and WAL sizes, journal mode and the rows in each table.",
        discussion: """
            The first line says whether another process runs the sweeper (serve), with its host, pid and \
            last heartbeat, and when the sweeper last passed. A line follows for each other process with the \
            store open, live or dead: its host identity, pid, whether it sweeps and its last heartbeat, on the \
            store's clock (the database server's on PostgreSQL). --json adds "serving", "instances" (id, host, \
            pid, serving, lastHeartbeat, alive, recovered: found dead and recovered by this command's own open) \
            and "sweeperLagMs".
            """)

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let (status, serving) = try await withStore(global) { store in
            (try await store.storageStatus(), try await ServingSummary.read(store, snapshot: try await store.metricsSnapshot()))
        }
        let output = Output(json: global.json)
        if global.json {
            try output.printJSON(StatusReport(storage: status, serving: serving))
            return
        }
        Output.printLine(serving.line)
        serving.instanceLines.forEach(Output.printLine)
        if try StoreAddress(global.databasePath).isPostgres {
            // The server keeps its own log; the size is the schema's tables and indexes.
            Output.printLine("database:       \(status.path)")
            Output.printLine("schema version: \(status.schemaVersion) (this build: \(status.latestKnownVersion))")
            Output.printLine("tables size:    \(ByteCount.human(status.fileBytes))")
        } else {
            Output.printLine("file:           \(status.path)")
            Output.printLine("schema version: \(status.schemaVersion) (this build: \(status.latestKnownVersion))")
            Output.printLine("file size:      \(ByteCount.human(status.fileBytes))")
            Output.printLine("WAL size:       \(ByteCount.human(status.walBytes))")
            Output.printLine("journal mode:   \(status.journalMode)")
        }
        Output.printLine("")
        output.printTable(["TABLE", "ROWS"], status.tables.map { [$0.table, "\($0.rows)"] })
    }

    /// The storage status and the serving summary as one JSON object.
    private struct StatusReport: Encodable {
        let storage: StorageStatus
        let serving: ServingSummary

        func encode(to encoder: any Encoder) throws {
            try storage.encode(to: encoder)
            try serving.encode(to: encoder)
        }
    }
}
