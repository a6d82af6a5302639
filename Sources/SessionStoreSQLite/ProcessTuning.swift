import CSQLite

/// Settings of the SQLite library for the whole process, which only its owner may choose.
///
/// A library linked into a service must not change process-wide state behind the
/// service's back, so ``DatabasePool`` never calls these; a program that owns its process
/// (such as `sessionctl`) calls them first thing.
///
/// ```swift
/// @main struct Server {
///     static func main() async throws {
///         SQLiteProcessTuning.disableMemoryStatistics()
///         let store = try await SessionStore.open(path: "sessions.sqlite")
///         // ...
///     }
/// }
/// ```
public enum SQLiteProcessTuning {
    /// Turns off SQLite's memory statistics (`SQLITE_CONFIG_MEMSTATUS`), so its allocator
    /// stops taking a process-wide mutex on every allocation and free — about a tenth of
    /// the writer's time in a group commit. `sqlite3_memory_used()` then reports zero and
    /// a soft heap limit is not enforced.
    ///
    /// Works only before SQLite is first used in the process.
    ///
    /// - Returns: Whether the setting took effect; false once SQLite has been initialized.
    @discardableResult
    public static func disableMemoryStatistics() -> Bool {
        csqlite_disable_memory_statistics() == SQLITE_OK
    }
}
