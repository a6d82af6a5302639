import Foundation
import SessionStore
import Testing

/// A database file in its own temporary directory, driven through the built `sessionctl`
/// (``Sessionctl/run(_:environment:)``); every command gets `--db` for it.
struct CLIDatabase {
    let directory = TemporaryDirectory()
    /// Global options added to every command, such as `--set NAME=VALUE`.
    var options: [String] = []
    let path: String

    /// `sessions.sqlite` in the value's own directory.
    init(options: [String] = []) {
        self.options = options
        path = directory.path("sessions.sqlite")
    }

    /// A file made elsewhere, such as a ``TestStore``'s.
    init(path: String) {
        self.path = path
    }

    /// Runs `sessionctl ARGUMENTS --db PATH OPTIONS`.
    func run(_ arguments: [String]) async throws -> CommandResult {
        try await Sessionctl.run(arguments + ["--db", path] + options)
    }

    /// Runs the command with `--json`, requires exit 0 and an empty stderr (but for the
    /// notice of a command that created the file), and returns stdout parsed.
    func json(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws -> Any {
        let result = try await run(arguments + ["--json"])
        try #require(
            result.status == 0,
            "sessionctl \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)",
            sourceLocation: sourceLocation)
        #expect(result.stderr.isEmpty || isCreationNotice(result.stderr), "\(result.stderr)", sourceLocation: sourceLocation)
        return try result.json()
    }

    /// Whether `stderr` is only the `{"created":PATH}` line of a command that created this file.
    func isCreationNotice(_ stderr: String) -> Bool {
        guard stderr.hasSuffix("\n"), stderr.split(separator: "\n").count == 1,
            let object = try? JSONSerialization.jsonObject(with: Data(stderr.utf8)) as? [String: String]
        else { return false }
        return object == ["created": path]
    }

    /// A command whose JSON output is one object (a session, for most).
    func object(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: Any] {
        let value = try await json(arguments, sourceLocation: sourceLocation)
        return try #require(value as? [String: Any], "not a JSON object: \(value)", sourceLocation: sourceLocation)
    }

    /// A command whose JSON output is an array of objects (`list`, `events`, `config`).
    func array(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws -> [[String: Any]] {
        let value = try await json(arguments, sourceLocation: sourceLocation)
        return try #require(value as? [[String: Any]], "not a JSON array of objects: \(value)", sourceLocation: sourceLocation)
    }

    /// Opens a session with `open ARGUMENTS` and returns its key.
    func open(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let session = try await object(["open"] + arguments, sourceLocation: sourceLocation)
        return try #require(session["key"] as? String, sourceLocation: sourceLocation)
    }

    /// Runs the command with `--json`, expects exit 1 with nothing on stdout and one JSON
    /// error object on stderr, and returns its code.
    @discardableResult
    func failure(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        try await error(arguments, sourceLocation: sourceLocation).code
    }

    /// ``failure(_:sourceLocation:)``, returning the error's code and message.
    func error(
        _ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> (code: String, message: String) {
        let result = try await run(arguments + ["--json"])
        #expect(result.status == 1, "sessionctl \(arguments.joined(separator: " ")) exited \(result.status)", sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, sourceLocation: sourceLocation)
        #expect(result.stderr.split(separator: "\n").count == 1, "stderr: \(result.stderr)", sourceLocation: sourceLocation)
        let error = try #require(result.error(), "stderr is not a JSON error: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(!error.message.isEmpty, sourceLocation: sourceLocation)
        return error
    }

    /// The keys of a JSON array of sessions, in order.
    static func keys(_ sessions: [[String: Any]]) -> [String] {
        sessions.compactMap { $0["key"] as? String }
    }
}
