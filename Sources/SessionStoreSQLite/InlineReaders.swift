import Foundation

/// Read-only connections lent to the calling thread for point reads that cannot block.
///
/// Their busy timeout is zero: in WAL mode a reader never waits for the writer, and in
/// the rare case SQLite would have to wait (another connection is recovering the WAL
/// index) the read fails with `SQLITE_BUSY` at once and ``DatabasePool/readInline(_:)``
/// reports that it could not run, so the caller goes through a reader thread instead.
/// That keeps the no-blocking rule of the cooperative thread pool while sparing point
/// lookups two thread hand-offs.
final class InlineReaders: @unchecked Sendable {
    // Each connection is used by one thread at a time: taken out of `idle` under the
    // lock, used, and put back.
    private let lock = NSLock()
    private var idle: [Database]

    init(_ connections: [Database]) {
        idle = connections
    }

    /// Runs `body` on an idle connection; `nil` when none is idle or SQLite was busy.
    func read<T>(_ body: (Database) throws -> T) throws -> T? {
        guard let database = lock.withLock({ idle.popLast() }) else { return nil }
        defer { lock.withLock { idle.append(database) } }
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

    func removeAll() {
        lock.withLock { idle.removeAll() }
    }
}

/// Runs blocking work (opening files) on a thread of its own and awaits it.
func onDedicatedThread<T: Sendable>(name: String, _ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        startThread(named: name) { continuation.resume(with: Result { try work() }) }
    }
}
