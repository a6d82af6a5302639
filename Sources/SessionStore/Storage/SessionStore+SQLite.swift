@_exported import SessionStoreCore
import SessionStoreSQLite

extension SessionStore {
    /// Opens (creating if needed, mode 0600) and migrates the SQLite database at `path`,
    /// then registers this process and recovers the work of processes that died with the
    /// file open (see ``RecoveryReport``).
    ///
    /// ```swift
    /// let store = try await SessionStore.open(path: "sessions.sqlite")
    /// ```
    ///
    /// `path` is a file path, never an SQLite URI. A symbolic link is refused, and so is a
    /// file another user owns; a file of this user's that others may read is brought to
    /// mode 0600 (with its `-wal` and `-shm`), which a `debug` log line reports.
    ///
    /// - Throws: ``SessionStoreError`` with `STORAGE.CANTOPEN` when the file cannot be
    ///   opened or created, is a symbolic link or belongs to another user,
    ///   `STORAGE.NOTADB` when it is not a database (it is left untouched),
    ///   `SCHEMA.TOO_NEW` when a newer build wrote it,
    ///   `SCHEMA.UNKNOWN_MIGRATION` when it records a migration this build skipped, and
    ///   `SCHEMA.CHECKSUM_MISMATCH` when a migration it recorded differs from this build's;
    ///   `INVALID_ARGUMENT.CONFIG_VALUE` for a configured value outside the range its
    ///   option takes by name (a duration that is negative or beyond `Int64`
    ///   milliseconds, a count such as a reader count of 0, a negative limit), or a
    ///   ``SessionStoreConfiguration/redactionPattern``
    ///   that is not a regular expression, before the file is opened.
    public static func open(
        path: String, configuration: SessionStoreConfiguration = SessionStoreConfiguration()
    ) async throws -> SessionStore {
        try await open(configuration: configuration) {
            try await SQLiteBackend.open(path: path, configuration: configuration)
        }
    }

    /// The SQLite migrations compiled into this build.
    package static var migrations: [Migration] { SQLiteBackend.migrations }
}
