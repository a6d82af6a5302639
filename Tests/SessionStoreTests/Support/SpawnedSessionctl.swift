import Foundation
import SessionStore
import SessionStoreSQLite
import Subprocess
import Synchronization
import Testing

#if canImport(System)
import System
#else
import SystemPackage
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `sessionctl` started as a real process: stdout is read line by line as it arrives
/// (only complete lines are kept) and stderr collected, while a task waits for the exit.
/// A process still running when this is released is killed.
final class SpawnedSessionctl: Sendable {
    private struct ExitState {
        var termination: TerminationStatus?
        var waiters: [CheckedContinuation<TerminationStatus, Never>] = []
    }

    private struct OutputState {
        var lines: [String] = []
        var finished = false
        var stderr: [UInt8] = []
    }

    /// State shared with the task running the process.
    private final class Shared: Sendable {
        let exit = Mutex(ExitState())
        let output = Mutex(OutputState())
        let exited = Atomic<Bool>(false)
        /// Whether the process was started (and the pid handed over).
        let started = Atomic<Bool>(false)

        func ended(_ termination: TerminationStatus) {
            exited.store(true, ordering: .sequentiallyConsistent)
            let waiters = exit.withLock { state in
                state.termination = termination
                defer { state.waiters = [] }
                return state.waiters
            }
            waiters.forEach { $0.resume(returning: termination) }
        }
    }

    private final class Flag: Sendable {
        let value = Atomic<Bool>(false)
    }

    let arguments: [String]
    let pid: pid_t
    private let shared: Shared

    /// Starts `sessionctl` with `arguments`; returns once it runs. With
    /// `standardOutputPath` its stdout is that file (created or truncated) rather than a
    /// pipe read here, and no lines are collected.
    ///
    /// With a `launcher` (`["/usr/sbin/ip", "netns", "exec", "host1"]`), that command runs
    /// `sessionctl`; it must exec it, so the pid is sessionctl's.
    init(_ arguments: [String], standardOutputPath: String? = nil, launcher: [String] = []) async throws {
        self.arguments = arguments
        let shared = Shared()
        self.shared = shared
        pid = try await withCheckedThrowingContinuation { (started: CheckedContinuation<pid_t, any Error>) in
            Task {
                do {
                    let termination: TerminationStatus
                    if let standardOutputPath {
                        termination = try await Self.run(arguments, standardOutputPath: standardOutputPath, shared, started)
                    } else {
                        let executable = launcher.first ?? Sessionctl.executable.path
                        let fullArguments = launcher.isEmpty ? arguments : launcher.dropFirst() + [Sessionctl.executable.path] + arguments
                        termination = try await Subprocess.run(
                            .path(FilePath(executable)), arguments: Arguments(Array(fullArguments)),
                            environment: Sessionctl.environment(), input: .none, output: .sequence, error: .sequence
                        ) { execution in
                            shared.started.store(true, ordering: .sequentiallyConsistent)
                            started.resume(returning: execution.processIdentifier.value)
                            async let error: Void = Self.collect(execution.standardError, into: shared)
                            await Self.readLines(execution.standardOutput, into: shared)
                            await error
                        }.terminationStatus
                    }
                    shared.ended(termination)
                } catch {
                    if shared.started.load(ordering: .sequentiallyConsistent) {
                        // Waiting for the process failed after it started: no status to report.
                        Issue.record("waiting for sessionctl \(arguments.joined(separator: " ")) failed: \(error)")
                        shared.output.withLock { $0.finished = true }
                        shared.ended(.exited(-1))
                    } else {
                        started.resume(throwing: error)
                    }
                }
            }
        }
    }

    deinit {
        if isRunning {
            kill(pid, SIGKILL)
        }
    }

    /// Runs the process with stdout written to `path`, collecting stderr.
    private static func run(
        _ arguments: [String], standardOutputPath path: String, _ shared: Shared,
        _ started: CheckedContinuation<pid_t, any Error>
    ) async throws -> TerminationStatus {
        shared.output.withLock { $0.finished = true }
        return try await Subprocess.run(
            .path(FilePath(Sessionctl.executable.path)), arguments: Arguments(arguments),
            environment: Sessionctl.environment(), input: .none,
            output: .fileDescriptor(try ChildOutput.file(path), closeAfterSpawningProcess: true), error: .sequence
        ) { execution in
            shared.started.store(true, ordering: .sequentiallyConsistent)
            started.resume(returning: execution.processIdentifier.value)
            await Self.collect(execution.standardError, into: shared)
        }.terminationStatus
    }

    /// Reads `output` to its end; a read error ends it as the end of the stream would.
    private static func readLines(_ output: SubprocessOutputSequence, into shared: Shared) async {
        var pending: [UInt8] = []
        do {
            for try await buffer in output {
                buffer.withUnsafeBytes { pending.append(contentsOf: $0) }
                guard let lastNewline = pending.lastIndex(of: UInt8(ascii: "\n")) else { continue }
                let complete = pending[..<lastNewline].split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                    .map { String(decoding: $0, as: UTF8.self) }
                pending.removeSubrange(...lastNewline)
                shared.output.withLock { $0.lines += complete }
            }
        } catch {}
        shared.output.withLock { $0.finished = true }
    }

    private static func collect(_ error: SubprocessOutputSequence, into shared: Shared) async {
        do {
            for try await buffer in error {
                buffer.withUnsafeBytes { bytes in shared.output.withLock { $0.stderr += bytes } }
            }
        } catch {}
    }

    var lineCount: Int { shared.output.withLock { $0.lines.count } }

    var isRunning: Bool { !shared.exited.load(ordering: .sequentiallyConsistent) }

    /// Waits until the process has printed `count` complete lines; false when it exited
    /// first or `limit` passed (a guard against hangs, not a measurement).
    func waitForLines(atLeast count: Int, within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while lineCount < count {
            guard isRunning, ContinuousClock.now < deadline else { return lineCount >= count }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return true
    }

    /// Waits for the process to end; it has been reaped when this returns.
    func exit() async -> TerminationStatus {
        let shared = self.shared
        return await withCheckedContinuation { continuation in
            let done = shared.exit.withLock { state -> TerminationStatus? in
                if let termination = state.termination { return termination }
                state.waiters.append(continuation)
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    /// Waits for the process to end; after `limit` (a hang) it is killed, an issue is
    /// recorded and `nil` returned.
    func exit(within limit: Duration, sourceLocation: SourceLocation = #_sourceLocation) async -> TerminationStatus? {
        let timedOut = Flag()
        let pid = self.pid
        let shared = self.shared
        let guardTask = Task {
            try? await Task.sleep(for: limit)
            if !Task.isCancelled, !shared.exited.load(ordering: .sequentiallyConsistent) {
                timedOut.value.store(true, ordering: .sequentiallyConsistent)
                kill(pid, SIGKILL)
            }
        }
        let termination = await exit()
        guardTask.cancel()
        if timedOut.value.load(ordering: .sequentiallyConsistent) {
            Issue.record(
                "sessionctl \(arguments.joined(separator: " ")) did not end within \(limit); killed", sourceLocation: sourceLocation)
            return nil
        }
        return termination
    }

    /// Every complete stdout line, once the reader has drained the pipe after the exit.
    func completeLines() async -> [String] {
        while !shared.output.withLock({ $0.finished }) {
            try? await Task.sleep(for: .milliseconds(5))
        }
        return shared.output.withLock { $0.lines }
    }

    /// The complete stdout lines read so far.
    var linesSoFar: [String] { shared.output.withLock { $0.lines } }

    /// What the process has written to stderr so far.
    func stderrText() -> String {
        String(decoding: shared.output.withLock { $0.stderr }, as: UTF8.self)
    }

    /// The `{"op":"error",...}` lines of a load's stderr as (code, message); a line that
    /// is not JSON is returned as code `UNPARSED`.
    static func errorLines(_ stderr: String) -> [(code: String, message: String)] {
        stderr.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                return ("UNPARSED", String(line))
            }
            guard object["op"] as? String == "error" else { return nil }
            return (object["code"] as? String ?? "?", object["message"] as? String ?? "")
        }
    }
}
