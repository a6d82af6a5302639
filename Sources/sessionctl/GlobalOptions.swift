import ArgumentParser
import Foundation
import SessionStore

/// Options every command accepts, before or after its own arguments.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "The database file (default: $SESSIONSTORE_DB, else ./sessions.sqlite).")
    var db: String?

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    var databasePath: String {
        db ?? ProcessInfo.processInfo.environment["SESSIONSTORE_DB"] ?? "./sessions.sqlite"
    }

    func makeConfiguration() throws -> SessionStoreConfiguration {
        SessionStoreConfiguration()
    }
}

/// Opens the store named by the global options, runs `body`, closes the store, and turns
/// a library error into one line on stderr and exit code 1.
func withStore<T>(
    _ options: GlobalOptions, _ body: (SessionStore) async throws -> T
) async throws -> T {
    let output = Output(json: options.json)
    do {
        let store = try await SessionStore.open(path: options.databasePath, configuration: options.makeConfiguration())
        do {
            let result = try await body(store)
            await store.close()
            return result
        } catch {
            await store.close()
            throw error
        }
    } catch let error as SessionStoreError {
        output.printError(code: error.code, message: error.message)
        throw ExitCode(1)
    }
}
