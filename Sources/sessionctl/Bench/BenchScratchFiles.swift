import Dispatch
import Foundation
import Synchronization

/// The database files the benchmark makes in the temporary directory, removed when their
/// scenario ends, and also when SIGINT or SIGTERM stops the run: a million-session
/// scenario stopped with Ctrl-C would otherwise leave half a GiB behind. Servers the
/// benchmark started are sent SIGTERM then too.
final class BenchScratchFiles: Sendable {
    private let paths = Mutex<Set<String>>([])
    private let servers = Mutex<Set<pid_t>>([])

    /// Takes the server process `pid` into care until `release(server:)`.
    func add(server pid: pid_t) {
        servers.withLock { _ = $0.insert(pid) }
    }

    func release(server pid: pid_t) {
        servers.withLock { _ = $0.remove(pid) }
    }

    /// Takes `path` (and its `-wal` and `-shm`) into care.
    func add(_ path: String) {
        paths.withLock { _ = $0.insert(path) }
    }

    /// Removes `path`, its `-wal` and its `-shm`.
    func remove(_ path: String) {
        paths.withLock { _ = $0.remove(path) }
        Self.delete(path)
    }

    private static func delete(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
    }

    /// Runs `body`; a SIGINT or SIGTERM meanwhile calls `interrupted` with the signal's
    /// number (to print what was measured), stops every server in care, removes every
    /// file in care and ends the process with status 128 + the signal's number, as the
    /// default action would (130 for SIGINT).
    func removingOnInterrupt<T>(
        interrupted: @escaping @Sendable (Int32) -> Void = { _ in }, _ body: () async throws -> T
    ) async rethrows -> T {
        let sources = [SIGINT, SIGTERM].map { signalNumber in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [self] in
                interrupted(signalNumber)
                servers.withLock { $0.forEach { _ = kill($0, SIGTERM) } }
                paths.withLock { $0.forEach(Self.delete) }
                exit(128 + signalNumber)
            }
            source.resume()
            return (signalNumber, source)
        }
        defer {
            for (signalNumber, source) in sources {
                source.cancel()
                signal(signalNumber, SIG_DFL)
            }
        }
        return try await body()
    }
}
