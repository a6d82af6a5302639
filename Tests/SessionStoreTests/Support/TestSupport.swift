import Foundation
import SessionStore
import SessionStoreSQLite
import Subprocess
import Testing

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// A fresh directory under the system's temporary directory, removed on deinit.
final class TemporaryDirectory: @unchecked Sendable {
    let url: URL

    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("sessionstore-tests-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    func path(_ name: String) -> String {
        url.appendingPathComponent(name).path
    }
}

/// A database file in its own temporary directory, with a manual clock, opened through
/// the public API.
final class TestStore: @unchecked Sendable {
    let directory = TemporaryDirectory()
    let clock = ManualWallClock(now: 1_700_000_000_000)
    var path: String { directory.path("sessions.sqlite") }

    /// Opens a store on the file; `configure` adjusts the configuration first.
    func open(_ configure: (inout SessionStoreConfiguration) -> Void = { _ in }) async throws -> SessionStore {
        var configuration = SessionStoreConfiguration(clock: clock)
        configure(&configuration)
        return try await SessionStore.open(path: path, configuration: configuration)
    }

    /// Runs `body` on a separate read-only connection: what `sqlite3` would see.
    func inspect<T>(_ body: (Database) throws -> T) throws -> T {
        let database = try Database(path: path, configuration: DatabaseConfiguration(readOnly: true))
        return try body(database)
    }

    func count(_ sql: String, _ arguments: [DatabaseValue] = []) throws -> Int64 {
        try inspect { try $0.fetchInt64(sql: sql, arguments) ?? -1 }
    }

    /// The details column of `EXPLAIN QUERY PLAN` for `sql`, one line per step.
    func queryPlan(_ sql: String, _ arguments: [DatabaseValue] = []) throws -> [String] {
        try inspect { db in
            try db.fetchAll(sql: "EXPLAIN QUERY PLAN " + sql, arguments) { $0.string(3) }
        }
    }
}

/// The result of running the built `sessionctl`.
struct CommandResult {
    let status: Int32
    let stdout: String
    let stderr: String

    /// stdout parsed as JSON.
    func json() throws -> Any {
        try JSONSerialization.jsonObject(with: Data(stdout.utf8))
    }

    /// stderr parsed as the JSON error object: (code, message).
    func error() -> (code: String, message: String)? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(stderr.utf8)) as? [String: Any],
            let error = object["error"] as? [String: Any],
            let code = error["code"] as? String, let message = error["message"] as? String
        else { return nil }
        return (code, message)
    }
}

enum Sessionctl {
    /// The `sessionctl` built beside the test bundle.
    static var executable: URL {
        if let path = ProcessInfo.processInfo.environment["SESSIONCTL"] {
            return URL(fileURLWithPath: path)
        }
        var directory = Bundle.main.bundleURL
        if directory.pathExtension == "xctest" {
            directory.deleteLastPathComponent()
        }
        let candidate = directory.appendingPathComponent("sessionctl")
        if FileManager.default.fileExists(atPath: candidate.path) {
            return candidate
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("sessionctl")
    }

    /// Runs `sessionctl` with `arguments` and waits for it.
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> CommandResult {
        try await Command.run(executable.path, arguments, environment: Self.environment(environment))
    }

    /// This process's environment without `SESSIONSTORE_DB`, with `overrides`.
    static func environment(_ overrides: [String: String] = [:]) -> Subprocess.Environment {
        var updates: [Subprocess.Environment.Key: String?] = ["SESSIONSTORE_DB": nil]
        for (name, value) in overrides {
            updates[Subprocess.Environment.Key(stringLiteral: name)] = value
        }
        return .inherit.updating(updates)
    }
}

/// Any program, run to its end.
enum Command {
    /// Runs `executable` with `arguments` in `environment` and waits for it.
    static func run(
        _ executable: String, _ arguments: [String], environment: Subprocess.Environment = .inherit
    ) async throws -> CommandResult {
        // Files rather than collected output: what a command prints has no limit here.
        let directory = TemporaryDirectory()
        let result = try await Subprocess.run(
            .path(FilePath(executable)), arguments: Arguments(arguments), environment: environment,
            output: .fileDescriptor(try ChildOutput.file(directory.path("out")), closeAfterSpawningProcess: true),
            error: .fileDescriptor(try ChildOutput.file(directory.path("err")), closeAfterSpawningProcess: true))
        let stdout = FileManager.default.contents(atPath: directory.path("out")) ?? Data()
        let stderr = FileManager.default.contents(atPath: directory.path("err")) ?? Data()
        return CommandResult(
            status: result.terminationStatus.shellStatus,
            stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }
}

enum ChildOutput {
    /// `path` opened for a child's output: created (mode 0600) or truncated.
    static func file(_ path: String) throws -> FileDescriptor {
        try FileDescriptor.open(
            FilePath(path), .writeOnly, options: [.create, .truncate, .closeOnExec], permissions: [.ownerReadWrite])
    }
}

extension TerminationStatus {
    /// The status a shell reports: the exit status, or 128 + the signal that killed it.
    var shellStatus: Int32 {
        switch self {
        case .exited(let status): status
        case .signaled(let signal): 128 + signal
        }
    }
}

/// The outcome of a store call: its value, or the ``SessionStoreError`` it threw. The
/// store throws nothing else; another error fails the test.
func outcome<T>(
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> T
) async -> Result<T, SessionStoreError> {
    do {
        return .success(try await body())
    } catch let error as SessionStoreError {
        return .failure(error)
    } catch {
        Issue.record("the store threw \(type(of: error)), not SessionStoreError: \(error)", sourceLocation: sourceLocation)
        return .failure(SessionStoreError(code: .storageError, message: "\(error)"))
    }
}

extension Result {
    /// The error of a failure; `nil` for a success.
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
