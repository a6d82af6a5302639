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
