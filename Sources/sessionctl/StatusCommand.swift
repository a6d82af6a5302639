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
        print("file:           \(status.path)")
        print("schema version: \(status.schemaVersion) (this build: \(status.latestKnownVersion))")
        print("file size:      \(status.fileBytes) bytes")
        print("WAL size:       \(status.walBytes) bytes")
        print("journal mode:   \(status.journalMode)")
        print("")
        output.printTable(["TABLE", "ROWS"], status.tables.map { [$0.table, "\($0.rows)"] })
    }
}
