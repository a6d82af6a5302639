import Synchronization

/// Tells cheaply whether the database changed: a read-only connection of its own that
/// asks SQLite's `PRAGMA data_version`, which moves whenever another connection — of this
/// process or of any other — commits (<https://www.sqlite.org/pragma.html#pragma_data_version>).
///
/// ```swift
/// let detector = try await pool.makeChangeDetector()
/// if detector.hasChanged() {
///     // read what is new
/// }
/// ```
///
/// The pragma reads the WAL index in shared memory and never waits (the busy timeout is
/// zero), so it runs on the caller's thread like ``DatabasePool/readInline(snapshot:_:)``.
/// The connection closes when the detector is released.
public final class ChangeDetector: Sendable {
    /// The connection moves between threads but is used by one at a time, under the lock.
    private struct State: @unchecked Sendable {
        let database: Database
        /// The version the last check saw; `nil` before the first.
        var version: Int64?
    }

    private let state: Mutex<State>

    init(database: Database) {
        state = Mutex(State(database: database))
    }

    /// Whether a commit of another connection happened since the previous call; `true`
    /// on the first call and whenever SQLite could not answer at once, so a caller that
    /// reads on `true` never misses a change.
    public func hasChanged() -> Bool {
        state.withLock { state in
            let version: Int64?
            do {
                version = try state.database.fetchInt64(sql: "PRAGMA data_version")
            } catch {
                state.version = nil
                return true
            }
            defer { state.version = version }
            return version == nil || version != state.version
        }
    }
}

extension DatabasePool {
    /// A ``ChangeDetector`` on a new read-only connection to the pool's file, opened on a
    /// thread of its own.
    public func makeChangeDetector() async throws -> ChangeDetector {
        let configuration = configuration.forReading(busyTimeout: .zero)
        let path = path
        let database = try await onDedicatedThread(name: "SessionStore.changes") {
            UncheckedDatabase(database: try Database(path: path, configuration: configuration))
        }
        return ChangeDetector(database: database.database)
    }
}

/// Hands a connection opened on another thread to its single user.
private struct UncheckedDatabase: @unchecked Sendable {
    let database: Database
}
