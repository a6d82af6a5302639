import SessionStoreCore

/// One schema change: the SQL of a `Migrations/postgres/NNNN_description.sql` file.
struct Migration: Sendable, Hashable {
    let version: Int
    let name: String
    let sql: String

    /// A fingerprint of ``sql`` (64-bit FNV-1a, hex), as the SQLite migrations record.
    var checksum: String {
        MigrationChecksum.of(sql)
    }
}

/// Brings a schema to the migrations of `Migrations/postgres/`.
///
/// The whole run holds a session advisory lock of the schema, so several hosts starting
/// at once migrate once: the first applies each missing migration in a transaction of
/// its own with its `schema_migrations` row, the others wait and then find nothing to do.
/// Recorded migrations are checked first, with the codes of the SQLite migrator
/// (`SCHEMA.TOO_NEW`, `SCHEMA.UNKNOWN_MIGRATION`, `SCHEMA.CHECKSUM_MISMATCH`).
struct PostgresMigrator {
    let migrations: [Migration]

    var latestVersion: Int { migrations.last?.version ?? 0 }

    /// Applies the missing migrations and returns their versions.
    func migrate(_ connection: PGConnection, lockKey: Int64, now: Int64) throws -> [Int] {
        try connection.execute(sql: "SELECT pg_advisory_lock(?, 0)", [.integer(lockKey)])
        defer { try? connection.execute(sql: "SELECT pg_advisory_unlock(?, 0)", [.integer(lockKey)]) }
        try connection.executeScript(sql: """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version bigint PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at bigint NOT NULL
            )
            """)
        let recorded = try applied(connection)
        try validate(recorded)
        let done = Set(recorded.map(\.version))
        var applied: [Int] = []
        for migration in migrations where !done.contains(migration.version) {
            try connection.executeScript(sql: "BEGIN")
            do {
                try connection.executeScript(sql: migration.sql)
                try connection.execute(
                    sql: "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
                    [.integer(Int64(migration.version)), .text(migration.name), .text(migration.checksum), .integer(now)])
                try connection.executeScript(sql: "COMMIT")
            } catch {
                try? connection.executeScript(sql: "ROLLBACK")
                throw error
            }
            applied.append(migration.version)
        }
        return applied
    }

    struct Applied {
        let version: Int
        let name: String
        let checksum: String
    }

    /// The rows of `schema_migrations`; empty when the table does not exist.
    func applied(_ connection: PGConnection) throws -> [Applied] {
        let exists = try connection.fetchInt64(sql: "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'schema_migrations'")
        guard exists == 1 else { return [] }
        return try connection.fetchAll(sql: "SELECT version, name, checksum FROM schema_migrations ORDER BY version") {
            Applied(version: Int($0.int64(0)), name: $0.string(1), checksum: $0.string(2))
        }
    }

    /// What ``migrate(_:lockKey:now:)`` would refuse, and known migrations not applied.
    func problems(_ connection: PGConnection) throws -> [String] {
        let recorded = try applied(connection)
        var problems: [String] = []
        do {
            try validate(recorded)
        } catch let error as SessionStoreError {
            problems.append(error.description)
        }
        let done = Set(recorded.map(\.version))
        for migration in migrations where !done.contains(migration.version) {
            problems.append("migration \(migration.version) (\(migration.name)) is not applied")
        }
        return problems
    }

    private func validate(_ recorded: [Applied]) throws {
        let known = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        for migration in recorded {
            guard let expected = known[migration.version] else {
                if migration.version > latestVersion {
                    throw SessionStoreError(
                        code: .schemaTooNew,
                        message: "the database records migration \(migration.version) (\(migration.name)), newer than this build's latest, \(latestVersion): open it with a newer build")
                }
                throw SessionStoreError(
                    code: .schemaUnknownMigration,
                    message: "the database records migration \(migration.version) (\(migration.name)), which this build does not have")
            }
            guard expected.checksum == migration.checksum else {
                throw SessionStoreError(
                    code: .schemaChecksumMismatch,
                    message: "migration \(migration.version) (\(migration.name)) was recorded with checksum \(migration.checksum), this build's is \(expected.checksum)")
            }
        }
    }
}
