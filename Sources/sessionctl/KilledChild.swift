import Subprocess

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// A program run as a child process and killed with SIGKILL, as a crash would, once one
/// of its streams has printed enough: the demo's and the benchmark's way to leave a file
/// as a crashed process leaves it.
enum KilledChild {
    /// The stream read while the child runs; the other one is discarded.
    enum Stream {
        case output, error
    }

    /// Runs `executable` with `arguments`, reads `stream` as it comes until `enough`
    /// holds for what has arrived (or the stream ends), kills the child and waits for it.
    /// Returns what was read and the child's pid.
    static func run(
        _ executable: String, _ arguments: [String], reading stream: Stream, until enough: @Sendable ([UInt8]) -> Bool
    ) async throws -> (read: [UInt8], pid: pid_t) {
        let executable = Executable.path(FilePath(executable))
        let arguments = Arguments(arguments)
        switch stream {
        case .output:
            let result = try await Subprocess.run(executable, arguments: arguments, input: .none, output: .sequence, error: .discarded) {
                try await readAndKill($0, $0.standardOutput, until: enough)
            }
            return (result.closureResult, result.processIdentifier.value)
        case .error:
            let result = try await Subprocess.run(executable, arguments: arguments, input: .none, output: .discarded, error: .sequence) {
                try await readAndKill($0, $0.standardError, until: enough)
            }
            return (result.closureResult, result.processIdentifier.value)
        }
    }

    private static func readAndKill<Input, Output, Error>(
        _ execution: Execution<Input, Output, Error>, _ stream: SubprocessOutputSequence, until enough: @Sendable ([UInt8]) -> Bool
    ) async throws -> [UInt8] {
        var read: [UInt8] = []
        for try await buffer in stream {
            buffer.withUnsafeBytes { read.append(contentsOf: $0) }
            if enough(read) { break }
        }
        // Fails only when the child has already ended on its own.
        try? execution.send(signal: .kill)
        return read
    }
}
