import Foundation
import Subprocess

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// A gRPC server the network benchmark measures: one already running, or a
/// `sessionctl serve --listen 127.0.0.1:0` the benchmark starts on its own file.
struct BenchServer: Sendable {
    var host: String
    var port: Int
    /// The server's process, when the benchmark started it: its peak RSS is read from
    /// `/proc`.
    var pid: pid_t?

    /// Why a started server could not be used.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts `executable serve --db path --listen 127.0.0.1:0 arguments...` with its log in
    /// a file beside `path`, waits for the log line naming its port, runs `body` with it,
    /// then stops it with SIGTERM and waits for it to exit. Fails when the server exits
    /// early, does not listen within a minute, or does not exit with status 0.
    static func spawned<T: Sendable>(
        executable: String, path: String, arguments: [String], scratch: BenchScratchFiles,
        _ body: (BenchServer) async throws -> T
    ) async throws -> T {
        let logPath = path + ".serve.log"
        scratch.add(logPath)
        defer { scratch.remove(logPath) }
        let log = try FileDescriptor.open(
            FilePath(logPath), .writeOnly, options: [.create, .truncate], permissions: [.ownerReadWrite])
        let result = try await Subprocess.run(
            // The benchmark's callers all come from one address without authentication:
            // one principal to the per-principal stream cap, which --subscribers may pass.
            .path(FilePath(executable)),
            arguments: Arguments(
                ["serve", "--db", path, "--listen", "127.0.0.1:0", "--max-streams-per-principal", "1000000"] + arguments),
            input: .none, output: .discarded, error: .fileDescriptor(log, closeAfterSpawningProcess: true)
        ) { execution in
            let pid = execution.processIdentifier.value
            scratch.add(server: pid)
            defer { scratch.release(server: pid) }
            do {
                let port = try await listeningPort(logPath: logPath, pid: pid)
                let value = try await body(BenchServer(host: "127.0.0.1", port: port, pid: pid))
                try execution.send(signal: .terminate)
                return value
            } catch {
                try? execution.send(signal: .terminate)
                throw error
            }
        }
        guard result.terminationStatus == .exited(0) else {
            throw Failure(description: "the benchmark's server ended with \(result.terminationStatus):\n\(tail(of: logPath))")
        }
        return result.closureResult
    }

    /// The port in the server's `grpc.address=HOST:PORT` log line, once it is there.
    private static func listeningPort(logPath: String, pid: pid_t) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if let range = log.range(of: "grpc.address="),
                let line = log[range.upperBound...].split(separator: "\n").first,
                let colon = line.lastIndex(of: ":"),
                let port = Int(line[line.index(after: colon)...].prefix(while: \.isNumber))
            {
                return port
            }
            if hasExited(pid) {
                throw Failure(description: "the benchmark's server exited before listening:\n\(tail(of: logPath))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw Failure(description: "the benchmark's server did not listen within 60 s:\n\(tail(of: logPath))")
    }

    /// Whether `pid` has ended (a zombie not yet reaped counts as ended).
    private static func hasExited(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        // pid (comm) STATE ...: the state follows the last parenthesis.
        guard let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    private static func tail(of path: String) -> String {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(20).joined(separator: "\n")
    }
}
