/// Brings a database to the schema of an ordered list of ``Migration``s.
///
/// ```swift
/// let migrator = try Migrator(migrations: [
///     Migration(version: 1, name: "sessions", sql: "CREATE TABLE sessions(...) STRICT;"),
/// ])
/// let applied = try migrator.migrate(db, now: 1_700_000_000_000)
/// ```
///
/// Each migration runs in its own `BEGIN IMMEDIATE` transaction together with its row in
/// `schema_migrations`, so a failure half-way leaves the file at the previous version,
/// and two processes migrating the same file at once apply each migration once.
/// Before anything is applied the recorded migrations are checked: one this build does
/// not know means the file was written by a newer build (`SCHEMA.TOO_NEW`) or, when its
/// number is below this build's latest, by a build with another history of migrations
/// (`SCHEMA.UNKNOWN_MIGRATION`); one whose
/// checksum differs (and is not one of its ``Migration/supersededChecksums``) means a
/// shipped file was edited (`SCHEMA.CHECKSUM_MISMATCH`).
public struct Migrator: Sendable {
    /// The migrations it applies, in increasing version order.
    public let migrations: [Migration]

    /// A migrator of `migrations`; throws `SCHEMA.INVALID_MIGRATIONS` unless their
    /// versions are positive, unique and in increasing order.
    public init(migrations: [Migration]) throws(MigrationError) {
        let versions = migrations.map(\.version)
        guard versions == versions.sorted(), Set(versions).count == versions.count, versions.allSatisfy({ $0 > 0 }) else {
            throw MigrationError(.invalidMigrations, message: "migration versions must be positive, unique and in order: \(versions)")
        }
        self.migrations = migrations
    }

    /// The latest version this migrator knows, 0 when it has none.
    public var latestVersion: Int { migrations.last?.version ?? 0 }

    /// Applies the missing migrations and returns their versions (empty when the file
    /// was up to date).
    @discardableResult
    public func migrate(_ db: Database, now: Int64) throws -> [Int] {
        try db.inTransaction(.immediate) {
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version INTEGER PRIMARY KEY,
                    name TEXT NOT NULL,
                    checksum TEXT NOT NULL,
                    applied_at INTEGER NOT NULL
                ) STRICT
                """)
        }
        try validate(appliedMigrations(db))

        var applied: [Int] = []
        for migration in migrations {
            let didApply = try db.inTransaction(.immediate) { () throws -> Bool in
                // Another process may have applied it since the check above.
                let recorded = try db.fetchInt64(
                    sql: "SELECT count(*) FROM schema_migrations WHERE version = ?", [.integer(Int64(migration.version))])
                guard recorded == 0 else { return false }
                try db.executeScript(sql: migration.sql)
                try db.execute(
                    sql: "INSERT INTO schema_migrations(version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
                    [.integer(Int64(migration.version)), .text(migration.name), .text(migration.checksum), .integer(now)])
                return true
            }
            if didApply {
                applied.append(migration.version)
            }
        }
        return applied
    }

    /// Problems with the recorded migrations, without changing anything: what
    /// ``migrate(_:now:)`` would refuse, plus known migrations not yet applied.
    public func problems(_ db: Database) throws -> [String] {
        let applied = try appliedMigrations(db)
        var problems: [String] = []
        do {
            try validate(applied)
        } catch {
            problems.append(error.description)
        }
        let recorded = Set(applied.map(\.version))
        for migration in migrations where !recorded.contains(migration.version) {
            problems.append("migration \(migration.version) (\(migration.name)) is not applied")
        }
        return problems
    }

    /// The rows of `schema_migrations`, oldest first; empty on a new file.
    public func appliedMigrations(_ db: Database) throws(SQLiteError) -> [AppliedMigration] {
        let exists = try db.fetchInt64(
            sql: "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'")
        guard exists == 1 else { return [] }
        return try db.fetchAll(sql: "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version") {
            AppliedMigration(version: $0.int(0), name: $0.string(1), checksum: $0.string(2), appliedAt: $0.int64(3))
        }
    }

    private func validate(_ applied: [AppliedMigration]) throws(MigrationError) {
        let known = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        for migration in applied {
            guard let expected = known[migration.version] else {
                if migration.version > latestVersion {
                    throw .tooNew(migration, latestKnown: latestVersion)
                }
                throw .unknown(migration, known: migrations.map(\.version))
            }
            guard expected.checksum == migration.checksum || expected.supersededChecksums.contains(migration.checksum) else {
                throw .checksumMismatch(migration, expected: expected.checksum)
            }
        }
    }
}
