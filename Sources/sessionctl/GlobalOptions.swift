import ArgumentParser
import Foundation
import SessionStore

/// Options every command accepts, before or after its own arguments.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "The database: a file, or postgres://USER@HOST:PORT/DB (default: $SESSIONSTORE_DB, else ./sessions.sqlite).")
    var db: String?

    @Flag(name: .long, help: "Print JSON instead of text: one document, or one object a line for what keeps printing.")
    var json = false

    @Option(
        name: .customLong("set"), parsing: .unconditionalSingleValue,
        help: ArgumentHelp("Set a store option for this command (repeatable); `sessionctl options` lists them.", valueName: "NAME=VALUE"))
    var settings: [String] = []

    @Option(
        name: .customLong("options-file"),
        help: ArgumentHelp("A JSON file of store options, {\"NAME\": VALUE, ...}, applied before --set.", valueName: "FILE"))
    var optionsFile: String?

    @Option(name: .customLong("config"), help: ArgumentHelp("The older name of --options-file.", valueName: "FILE", visibility: .hidden))
    var configFile: String?

    var databasePath: String {
        db ?? ProcessInfo.processInfo.environment["SESSIONSTORE_DB"].flatMap { $0.isEmpty ? nil : $0 } ?? "./sessions.sqlite"
    }

    var output: Output { Output(json: json) }

    /// The configuration from `--options-file` then `--set`, in that order; a bad name or
    /// value is a usage error naming it.
    func makeConfiguration() throws -> SessionStoreConfiguration {
        var configuration = SessionStoreConfiguration()
        do {
            for (name, value) in try fileSettings() {
                try configuration.set(name, to: value)
            }
            for setting in settings {
                guard let equals = setting.firstIndex(of: "=") else {
                    throw ValidationError("--set takes NAME=VALUE, not \(setting.debugDescription)")
                }
                try configuration.set(String(setting[..<equals]), to: String(setting[setting.index(after: equals)...]))
            }
        } catch let error as SessionStoreError {
            throw ValidationError(error.message)
        }
        return configuration
    }

    private func fileSettings() throws -> [(String, String)] {
        if optionsFile != nil && configFile != nil { throw ValidationError("give --options-file once") }
        guard let configFile = optionsFile ?? configFile else { return [] }
        guard let data = FileManager.default.contents(atPath: configFile) else {
            throw ValidationError("cannot read configuration file \(configFile)")
        }
        guard let object = try? JSONDecoder().decode([String: SettingValue].self, from: data) else {
            throw ValidationError(
                "configuration file \(configFile) must be a JSON object of strings, numbers, booleans or null")
        }
        return object.keys.sorted().map { ($0, object[$0]?.text ?? "unlimited") }
    }
}

/// One value of an `--options-file`, as the text `--set` would take.
private struct SettingValue: Decodable {
    let text: String

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            text = "unlimited"
        } else if let bool = try? container.decode(Bool.self) {
            text = bool ? "true" : "false"
        } else if let number = try? container.decode(Int64.self) {
            text = String(number)
        } else {
            text = try container.decode(String.self)
        }
    }
}

/// Opens the store named by the global options, runs `body`, closes the store, and turns
/// a library error into one line on stderr and exit code 1. A missing file is created only
/// for a command that creates files (``MissingDatabase/current``), which says so on stderr.
func withStore<T>(
    _ options: GlobalOptions, configuration: SessionStoreConfiguration? = nil, _ body: (SessionStore) async throws -> T
) async throws -> T {
    let configuration = try configuration ?? options.makeConfiguration()
    let address = try StoreAddress(options.databasePath)
    let file = DatabaseFile(path: options.databasePath)
    do {
        if !address.isPostgres, !file.existed, MissingDatabase.current == .refuse { throw file.missing }
        let store = try await address.open(configuration: configuration)
        if !address.isPostgres { file.announceCreation(options.output) }
        do {
            let result = try await body(store)
            await store.close()
            return result
        } catch {
            await store.close()
            throw error
        }
    } catch let error as SessionStoreError {
        options.output.printError(code: error.code.rawValue, message: error.message)
        throw ExitCode(1)
    }
}

/// Splits `K=V` arguments into a dictionary; a missing `=` is a usage error.
func keyValuePairs(_ arguments: [String], option: String) throws -> [String: String] {
    var pairs: [String: String] = [:]
    for argument in arguments {
        guard let equals = argument.firstIndex(of: "=") else {
            throw ValidationError("\(option) takes K=V, not \(argument.debugDescription)")
        }
        pairs[String(argument[..<equals])] = String(argument[argument.index(after: equals)...])
    }
    return pairs
}

extension Optional {
    /// The value, or a `code` error for a lookup that found nothing; the library answers
    /// an unknown id of a single read with `nil`, a command with an error.
    func orNotFound(_ code: SessionStoreError.Code, _ message: @autoclosure () -> String) throws -> Wrapped {
        guard let self else { throw SessionStoreError(code: code, message: message()) }
        return self
    }
}
