import Foundation
import Synchronization

/// Read-only connections lent to the calling thread for point reads that cannot block.
///
/// Their busy timeout is zero: in WAL mode a reader never waits for the writer, and in
/// the rare case SQLite would have to wait (another connection is recovering the WAL
/// index) the read fails with `SQLITE_BUSY` at once and ``DatabasePool/readInline(_:)``
/// reports that it could not run, so the caller goes through a reader thread instead.
/// That keeps the no-blocking rule of the cooperative thread pool while sparing point
/// lookups two thread hand-offs.
final class InlineReaders: Sendable {
    /// A connection moves between threads but is used by one at a time: taken out of
    /// `idle` under the lock, used, and put back.
    private struct Connection: @unchecked Sendable {
        let database: Database
    }

    private struct Idle {
        var connections: [Connection]
        /// Set by ``close()``: a connection in use then is closed when its read ends
        /// rather than put back.
        var isClosed = false
    }

    private let idle: Mutex<Idle>

    init(_ connections: [Database]) {
        idle = Mutex(Idle(connections: connections.map(Connection.init)))
    }

    /// Runs `body` on an idle connection; `nil` when none is idle, SQLite was busy or the
    /// readers are closed.
    func read<T>(_ body: (Database) throws -> T) throws -> T? {
        guard let connection = idle.withLock({ $0.isClosed ? nil : $0.connections.popLast() }) else { return nil }
        defer {
            idle.withLock { idle in
                if !idle.isClosed { idle.connections.append(connection) }
            }
        }
        let database = connection.database
        do {
            return try body(database)
        } catch let error as SQLiteError where error.code.primary == .busy || error.code.primary == .locked {
            database.rollbackIfNeeded()
            return nil
        } catch {
            database.rollbackIfNeeded()
            throw error
        }
    }

    /// Closes the idle connections now and each one in use when its read ends; reads
    /// asked for afterwards do not run.
    func close() {
        idle.withLock { idle in
            idle.isClosed = true
            idle.connections.removeAll()
        }
    }
}

/// Runs blocking work (opening files) on a thread of its own and awaits it.
func onDedicatedThread<T: Sendable>(name: String, _ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        startThread(named: name) { continuation.resume(with: Result { try work() }) }
    }
}
