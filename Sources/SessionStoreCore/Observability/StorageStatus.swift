import Foundation
import SessionStoreSQLite

/// What the file holds, for operators: `sessionctl status` prints it.
public struct StorageStatus: Sendable, Codable, Hashable {
    /// The row count of one table.
    public struct TableCount: Sendable, Codable, Hashable {
        /// The table's name.
        public let table: String
        /// The rows it holds.
        public let rows: Int64
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
}

/// The outcome of ``SessionStore/checkIntegrity()``: `sessionctl doctor` prints it.
public struct IntegrityReport: Sendable, Codable, Hashable {
    /// `PRAGMA integrity_check` lines; `["ok"]` when the file is sound.
    public let integrity: [String]
    /// `PRAGMA foreign_key_check` rows, one line each.
    public let foreignKeyViolations: [String]
    /// Migrations unknown to this build, edited since applied, or not applied.
    public let migrationProblems: [String]

    /// Whether every check passed: integrity `ok`, no foreign-key violations, no
    /// migration problems.
    public var isHealthy: Bool {
        integrity == ["ok"] && foreignKeyViolations.isEmpty && migrationProblems.isEmpty
    }
}

extension SessionStore {
    /// Schema version, file sizes, journal mode and the row count of every table.
    public func storageStatus() async throws -> StorageStatus {
        let path = self.path
        let latest = Self.migrations.last?.version ?? 0
        return try await read { db in
            let migrator = try Migrator(migrations: Self.migrations)
            let version = try migrator.appliedMigrations(db).last?.version ?? 0
            let journalMode = try StatusRecords.journalMode(db) ?? "unknown"
            let counts = try StatusRecords.tableNames(db).map { table in
                StorageStatus.TableCount(table: table, rows: try StatusRecords.rowCount(db, table: table))
            }
            return StorageStatus(
                path: path, schemaVersion: version, latestKnownVersion: latest,
                fileBytes: Self.fileSize(path), walBytes: Self.fileSize(path + "-wal"),
                journalMode: journalMode, tables: counts)
        }
    }

    /// Runs `PRAGMA integrity_check`, `PRAGMA foreign_key_check` and the migration
    /// checks; changes nothing.
    public func checkIntegrity() async throws -> IntegrityReport {
        try await read { db in
            let integrity = try StatusRecords.integrityCheck(db)
            let foreignKeys = try StatusRecords.foreignKeyViolations(db)
            let problems = try Migrator(migrations: Self.migrations).problems(db)
            return IntegrityReport(integrity: integrity, foreignKeyViolations: foreignKeys, migrationProblems: problems)
        }
    }

    private static func fileSize(_ path: String) -> Int64 {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        return (attributes?[.size] as? NSNumber)?.int64Value ?? 0
    }
}
