import SessionStoreCore

/// One schema change: the SQL of a `Migrations/NNNN_description.sql` file.
public struct Migration: Sendable, Hashable {
    /// The `NNNN` of the file name; migrations apply in increasing order.
    public let version: Int
    /// The `description` of the file name.
    public let name: String
    /// The file's SQL, run as one script inside one transaction.
    public let sql: String
    /// Checksums of earlier revisions of this migration that shipped by mistake, which a
    /// file may have recorded: accepted as this migration, a later migration bringing
    /// such a file to the same schema. Empty for a migration never edited after release.
    public var supersededChecksums: Set<String> = []

    /// Migration number `version`, called `name`, running `sql`.
    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// A fingerprint of ``sql`` (64-bit FNV-1a, hex), recorded when the migration is
    /// applied so that a later edit of a shipped file is detected.
    public var checksum: String {
        MigrationChecksum.of(sql)
    }
}

/// A migration recorded in the `schema_migrations` table.
public struct AppliedMigration: Sendable, Hashable {
    /// The migration's number.
    public let version: Int
    /// Its name when it was applied.
    public let name: String
    /// The checksum of its SQL when it was applied; see ``Migration/checksum``.
    public let checksum: String
    /// Milliseconds since the Unix epoch.
    public let appliedAt: Int64
}

/// Why a database's schema cannot be used by this build.
public struct MigrationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, as a stable code.
    public enum Kind: Sendable, Hashable, CaseIterable {
        /// The file records a migration newer than this build's latest.
        case tooNew
        /// The file records a migration below this build's latest that this build lacks.
        case unknownMigration
        /// A recorded migration's checksum differs from this build's file.
        case checksumMismatch
        /// The migrations given to a ``Migrator`` are not positive, unique and in order.
        case invalidMigrations

        /// The stable code: `SCHEMA.TOO_NEW`, `SCHEMA.UNKNOWN_MIGRATION`,
        /// `SCHEMA.CHECKSUM_MISMATCH` or `SCHEMA.INVALID_MIGRATIONS`. These strings are
        /// written here only; the library's error codes take them from here.
        public var code: String {
            switch self {
            case .tooNew: "SCHEMA.TOO_NEW"
            case .unknownMigration: "SCHEMA.UNKNOWN_MIGRATION"
            case .checksumMismatch: "SCHEMA.CHECKSUM_MISMATCH"
            case .invalidMigrations: "SCHEMA.INVALID_MIGRATIONS"
            }
        }
    }

    /// What is wrong.
    public let kind: Kind
    /// What is wrong, for a person.
    public let message: String

    /// The stable code of ``kind``.
    public var code: String { kind.code }

    /// `CODE: message`.
    public var description: String { "\(code): \(message)" }

    init(_ kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    static func tooNew(_ migration: AppliedMigration, latestKnown: Int) -> MigrationError {
        MigrationError(
            .tooNew,
            message: "the database has migration \(migration.version) (\(migration.name)), "
                + "newer than this build knows (latest \(latestKnown)); use a newer version of the library")
    }

    static func unknown(_ migration: AppliedMigration, known: [Int]) -> MigrationError {
        MigrationError(
            .unknownMigration,
            message: "the database has migration \(migration.version) (\(migration.name)), which this build does not "
                + "have although it knows later ones (\(known.map(String.init).joined(separator: ", "))); "
                + "it was written by a build with another history of migrations")
    }

    static func checksumMismatch(_ migration: AppliedMigration, expected: String) -> MigrationError {
        MigrationError(
            .checksumMismatch,
            message: "migration \(migration.version) (\(migration.name)) was applied with checksum "
                + "\(migration.checksum) but this build's file has \(expected); shipped migrations must not be edited")
    }
}
