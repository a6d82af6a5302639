
/// What the file holds, for operators: `sessionctl status` prints it.
public struct StorageStatus: Sendable, Codable, Hashable {
    /// The row count of one table.
    public struct TableCount: Sendable, Codable, Hashable {
        /// The table's name.
        public let table: String
        /// The rows it holds.
        public let rows: Int64

        package init(table: String, rows: Int64) {
            self.table = table
            self.rows = rows
        }
    }

    /// The database file.
    public let path: String
    /// The highest migration applied to the file.
    public let schemaVersion: Int
    /// The highest migration this build knows.
    public let latestKnownVersion: Int
    /// The size of the database file in bytes.
    public let fileBytes: Int64
    /// The size of its write-ahead log (`-wal` file) in bytes; 0 when absent.
    public let walBytes: Int64
    /// SQLite's journal mode, `wal` for a file this library opened.
    public let journalMode: String
    /// Every table with its row count, by name.
    public let tables: [TableCount]

    package init(
        path: String, schemaVersion: Int, latestKnownVersion: Int, fileBytes: Int64, walBytes: Int64,
        journalMode: String, tables: [TableCount]
    ) {
        self.path = path
        self.schemaVersion = schemaVersion
        self.latestKnownVersion = latestKnownVersion
        self.fileBytes = fileBytes
        self.walBytes = walBytes
        self.journalMode = journalMode
        self.tables = tables
    }
}

/// The outcome of ``SessionStore/checkIntegrity()``: `sessionctl doctor` prints it.
public struct IntegrityReport: Sendable, Codable, Hashable {
    /// `PRAGMA integrity_check` lines; `["ok"]` when the file is sound.
    public let integrity: [String]
    /// `PRAGMA foreign_key_check` rows, one line each.
    public let foreignKeyViolations: [String]
    /// Migrations unknown to this build, edited since applied, or not applied.
    public let migrationProblems: [String]

    package init(integrity: [String], foreignKeyViolations: [String], migrationProblems: [String]) {
        self.integrity = integrity
        self.foreignKeyViolations = foreignKeyViolations
        self.migrationProblems = migrationProblems
    }

    /// Whether every check passed: integrity `ok`, no foreign-key violations, no
    /// migration problems.
    public var isHealthy: Bool {
        integrity == ["ok"] && foreignKeyViolations.isEmpty && migrationProblems.isEmpty
    }
}

extension SessionStore {
    /// Schema version, file sizes, journal mode and the row count of every table.
    public func storageStatus() async throws -> StorageStatus {
        do {
            return try await backend.storageStatus()
        } catch {
            throw SessionStoreError.wrap(error)
        }
    }

    /// Runs the backend's integrity checks (on SQLite `PRAGMA integrity_check` and
    /// `PRAGMA foreign_key_check`) and the migration checks; changes nothing.
    public func checkIntegrity() async throws -> IntegrityReport {
        do {
            return try await backend.checkIntegrity()
        } catch {
            throw SessionStoreError.wrap(error)
        }
    }
}
