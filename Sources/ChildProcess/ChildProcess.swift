import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process started with `posix_spawn`, for programs and tests that run
/// `sessionctl` (or `sqlite3`) as a real process.
///
/// Foundation's `Process.run()` on Linux scans `/proc/self/fd` in a way that can read
/// past the end of a buffer and crash the parent (swift-corelibs-foundation#5472), now and
/// then, in a process with many descriptors open. This starts the child directly.
///
/// The child inherits no descriptor of the parent except its standard input, output and
/// error as redirected here, and any the parent opened without close-on-exec (SQLite,
/// Foundation and this type open theirs with it).
///
/// ```swift
/// let child = try ChildProcess.spawn("/usr/bin/sqlite3", ["db.sqlite", "PRAGMA integrity_check"], output: .pipe)
/// let text = child.readOutputToEnd()
/// let termination = child.wait()
/// ```
public final class ChildProcess: Sendable {
    /// Where a standard stream of the child goes.
    public enum Redirection: Sendable {
        /// The parent's own stream.
        case inherit
        /// `/dev/null`.
        case null
        /// A file, created (mode 0600) or truncated.
        case file(String)
        /// A pipe whose read end the parent gets as ``outputDescriptor`` or
        /// ``errorDescriptor`` (not for standard input).
        case pipe
    }

    /// How the child ended.
    public struct Termination: Sendable, Equatable, CustomStringConvertible {
        /// Whether it exited or was killed by a signal.
        public enum Reason: Sendable, Equatable {
            /// It exited; ``status`` is its exit status.
            case exit
            /// A signal killed it; ``status`` is the signal's number.
            case uncaughtSignal
        }

        /// How it ended.
        public let reason: Reason
        /// The exit status, or the number of the signal that killed it.
        public let status: Int32

        /// A termination of `reason` with `status`.
        public init(reason: Reason, status: Int32) {
            self.reason = reason
            self.status = status
        }

        /// "exit N" or "signal N".
        public var description: String { "\(reason == .exit ? "exit" : "signal") \(status)" }
    }

    /// A `posix_spawn` or pipe failure, with the `errno` it reported.
    public struct SpawnError: Error, Sendable, CustomStringConvertible {
        /// The executable that could not be started.
        public let executable: String
        /// The `errno` value.
        public let code: Int32

        /// Says which executable failed to start, and why.
        public var description: String { "cannot start \(executable): \(String(cString: strerror(code)))" }
    }

    /// The child's process id.
    public let pid: pid_t
    /// The read end of the child's standard output when it is ``Redirection/pipe``; the
    /// caller owns it and closes it.
    public let outputDescriptor: Int32?
    /// The read end of the child's standard error when it is ``Redirection/pipe``; the
    /// caller owns it and closes it.
    public let errorDescriptor: Int32?

    /// Held from making a pipe until the child holding its copy is started, so no child
    /// started meanwhile from another thread inherits the pipe (`pipe2` with
    /// `O_CLOEXEC` is not available to Swift here).
    private static let spawning = Mutex(())

    private init(pid: pid_t, outputDescriptor: Int32?, errorDescriptor: Int32?) {
        self.pid = pid
        self.outputDescriptor = outputDescriptor
        self.errorDescriptor = errorDescriptor
    }

    /// Starts `executable` with `arguments` (not including the program name).
    ///
    /// - Parameter environment: the child's whole environment; nil passes the parent's.
    public static func spawn(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        input: Redirection = .null, output: Redirection = .inherit, error: Redirection = .inherit
    ) throws(SpawnError) -> ChildProcess {
        try spawning.withLock { _ throws(SpawnError) in
            try spawnLocked(executable, arguments, environment: environment, input: input, output: output, error: error)
        }
    }

    private static func spawnLocked(
        _ executable: String, _ arguments: [String], environment: [String: String]?,
        input: Redirection, output: Redirection, error: Redirection
    ) throws(SpawnError) -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }

        // Pipes by target descriptor: the read end stays here, the write end goes to the
        // child.
        var pipes: [Int32: (read: Int32, write: Int32)] = [:]
        defer {
            for ends in pipes.values { close(ends.write) }
        }
        for (redirection, target) in [(output, STDOUT_FILENO), (error, STDERR_FILENO)] {
            guard case .pipe = redirection else { continue }
            var descriptors: [Int32] = [-1, -1]
            guard pipe(&descriptors) == 0 else {
                let code = errno
                for ends in pipes.values { close(ends.read) }
                throw SpawnError(executable: executable, code: code)
            }
            _ = fcntl(descriptors[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(descriptors[1], F_SETFD, FD_CLOEXEC)
            pipes[target] = (descriptors[0], descriptors[1])
        }
        for (redirection, target) in [(input, STDIN_FILENO), (output, STDOUT_FILENO), (error, STDERR_FILENO)] {
            switch redirection {
            case .inherit:
                break
            case .null:
                let flags = target == STDIN_FILENO ? O_RDONLY : O_WRONLY
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", flags, 0)
            case .file(let path):
                posix_spawn_file_actions_addopen(&actions, target, path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            case .pipe:
                // The pipe was made close-on-exec; dup2 gives the child a copy without it.
                if let ends = pipes[target] {
                    posix_spawn_file_actions_adddup2(&actions, ends.write, target)
                }
            }
        }

        let argv = ([executable] + arguments).map { strdup($0) }
        let envp = (environment.map { $0.map { "\($0.key)=\($0.value)" } } ?? currentEnvironment()).map { strdup($0) }
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let code = (argv + [nil]).withUnsafeBufferPointer { argvBuffer in
            (envp + [nil]).withUnsafeBufferPointer { envpBuffer in
                guard let argvBase = argvBuffer.baseAddress, let envpBase = envpBuffer.baseAddress else { return EINVAL }
                return posix_spawn(&pid, executable, &actions, nil, argvBase, envpBase)
            }
        }
        guard code == 0 else {
            for ends in pipes.values { close(ends.read) }
            throw SpawnError(executable: executable, code: code)
        }
        return ChildProcess(pid: pid, outputDescriptor: pipes[STDOUT_FILENO]?.read, errorDescriptor: pipes[STDERR_FILENO]?.read)
    }

    private static func currentEnvironment() -> [String] {
        var entries: [String] = []
        var cursor = environ
        while let entry = cursor.pointee {
            entries.append(String(cString: entry))
            cursor += 1
        }
        return entries
    }

    /// How the child ended, once it has been reaped.
    private let reaped = Mutex<Termination?>(nil)

    /// Blocks until the child ends and reaps it; later calls return the same termination.
    public func wait() -> Termination {
        if let termination = reaped.withLock({ $0 }) { return termination }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return reaped.withLock { $0 } ?? Termination(reason: .exit, status: -1) }
        }
        return record(status)
    }

    /// How the child ended if it has, reaping it; nil while it runs. Does not block.
    public func termination() -> Termination? {
        if let termination = reaped.withLock({ $0 }) { return termination }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return reaped.withLock { $0 } }
        return record(status)
    }

    private func record(_ status: Int32) -> Termination {
        // The <sys/wait.h> macros, which Swift does not import.
        let signal = status & 0x7F
        let termination = signal == 0
            ? Termination(reason: .exit, status: (status >> 8) & 0xFF)
            : Termination(reason: .uncaughtSignal, status: signal)
        reaped.withLock { $0 = termination }
        return termination
    }

    /// Sends `signal` to the child.
    @discardableResult
    public func kill(_ signal: Int32) -> Bool {
        #if canImport(Glibc)
        Glibc.kill(pid, signal) == 0
        #elseif canImport(Musl)
        Musl.kill(pid, signal) == 0
        #else
        Darwin.kill(pid, signal) == 0
        #endif
    }

    /// Reads ``outputDescriptor`` until `stop` returns true for what has arrived or the
    /// child closes it; returns what was read. Blocks.
    public func readOutput(until stop: ([UInt8]) -> Bool = { _ in false }) -> [UInt8] {
        Self.drain(outputDescriptor, until: stop)
    }

    /// Reads ``errorDescriptor`` like ``readOutput(until:)``.
    public func readError(until stop: ([UInt8]) -> Bool = { _ in false }) -> [UInt8] {
        Self.drain(errorDescriptor, until: stop)
    }

    private static func drain(_ descriptor: Int32?, until stop: ([UInt8]) -> Bool) -> [UInt8] {
        guard let descriptor else { return [] }
        var collected: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while !stop(collected) {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            collected += buffer[0..<count]
        }
        return collected
    }
}
