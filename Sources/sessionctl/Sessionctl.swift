import Foundation
import ArgumentParser
import SessionStoreSQLite

@main
struct Sessionctl: AsyncParsableCommand {
    /// What `sessionctl --version` prints.
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "sessionctl",
        abstract: "Manage and inspect a SessionStore database.",
        discussion: """
            Every command works on the file named by --db (default: $SESSIONSTORE_DB, \
            else ./sessions.sqlite), migrating it when needed. Only init, open, load, serve, \
            demo and bench create a missing file, and say so on stderr ("created PATH"); every \
            other command fails with STORAGE.CANTOPEN naming the path. With --json a \
            command prints one JSON document (an object; an array for a list), the same shape \
            whatever the data, absent values as null; what keeps printing until stopped (watch, \
            --follow, demo, load) prints one JSON object a line (JSON Lines), and serve logs JSON \
            lines to stderr. Errors go to stderr as {"error":{"code":...,"message":...}} with a \
            non-zero exit.
            """,
        version: version,
        subcommands: [
            InitCommand.self,
            StatusCommand.self,
            DoctorCommand.self,
            OptionsCommand.self,
            OptionsCommand.Alias.self,
            OpenCommand.self,
            GetCommand.self,
            ListCommand.self,
            CurrentCommand.self,
            TouchCommand.self,
            CloseCommand.self,
            DetailsCommand.self,
            ConfCommand.self,
            IdentifierCommand.self,
            LinkCommand.self,
            TreeCommand.self,
            EventsCommand.self,
            ExecCommand.self,
            InterruptCommand.self,
            QueryCommand.self,
            ResourceCommand.self,
            SweepCommand.self,
            ServeCommand.self,
            WatchCommand.self,
            SubscribeCommand.self,
            ReleasesCommand.self,
            LoadCommand.self,
            MetricsCommand.self,
            TopCommand.self,
            DemoCommand.self,
            BenchCommand.self,
        ])

    @OptionGroup var global: GlobalOptions

    /// ArgumentParser's entry point, except that with `--json` a usage error is printed
    /// as `{"error":{"code":"USAGE",...}}` like every other error, and that a usage error
    /// a command finds while running is followed by that command's usage, as one found
    /// while parsing is (ArgumentParser alone would print the root's).
    static func main() async {
        // This process is ours: SQLite's allocator need not keep statistics.
        SQLiteProcessTuning.disableMemoryStatistics()
        let parsed: any ParsableCommand
        do {
            parsed = try parseAsRoot()
        } catch {
            fail(error, in: nil)
        }
        let command = type(of: parsed)
        do {
            try await run(parsed)
        } catch {
            fail(error, in: command)
        }
    }

    /// Prints `error` as ArgumentParser would, a usage error with the usage of `command`
    /// (the one that was running), and exits.
    private static func fail(_ error: any Error, in command: (any ParsableCommand.Type)?) -> Never {
        let code = exitCode(for: error)
        if CommandLine.arguments.contains("--json"), code == .validationFailure {
            Output(json: true).printError(code: "USAGE", message: message(for: error))
            Foundation.exit(code.rawValue)
        }
        if let command, error is ValidationError, let path = CommandTree.path(to: command), !path.isEmpty {
            let text = """
                Error: \(message(for: error))
                Usage: \(usageString(for: command))
                  See '\(([_commandName] + path).joined(separator: " ")) --help' for more information.

                """
            FileHandle.standardError.write(Data(text.utf8))
            Foundation.exit(code.rawValue)
        }
        exit(withError: error)
    }

    /// Runs the parsed command, creating a missing database file only if it is one that
    /// creates files (``CreatesDatabase``).
    private nonisolated static func run(_ parsed: sending any ParsableCommand) async throws {
        var command = parsed
        let missing: MissingDatabase = command is any CreatesDatabase ? .create : .refuse
        try await MissingDatabase.$current.withValue(missing) {
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        }
    }
}
