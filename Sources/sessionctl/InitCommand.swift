import ArgumentParser
import SessionStore

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create the database file or migrate it to this build's schema, then print the schema version.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let status = try await withStore(global) { try await $0.storageStatus() }
        if global.json {
            try Output(json: true).printJSON(InitResult(path: status.path, schemaVersion: status.schemaVersion))
        } else {
            Output.printLine("\(status.path): schema version \(status.schemaVersion)")
        }
    }

    private struct InitResult: Encodable {
        let path: String
        let schemaVersion: Int
    }
}
