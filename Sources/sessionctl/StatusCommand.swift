import ArgumentParser
import SessionStore

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Print the schema version, file and WAL sizes, journal mode and the rows in each table.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let status = try await withStore(global) { try await $0.storageStatus() }
        let output = Output(json: global.json)
        if global.json {
            try output.printJSON(status)
            return
        }
        Output.printLine("file:           \(status.path)")
        Output.printLine("schema version: \(status.schemaVersion) (this build: \(status.latestKnownVersion))")
        Output.printLine("file size:      \(status.fileBytes) bytes")
        Output.printLine("WAL size:       \(status.walBytes) bytes")
        Output.printLine("journal mode:   \(status.journalMode)")
        Output.printLine("")
        output.printTable(["TABLE", "ROWS"], status.tables.map { [$0.table, "\($0.rows)"] })
    }
}
