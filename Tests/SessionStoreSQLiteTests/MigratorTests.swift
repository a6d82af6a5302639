import Foundation
import SessionStoreSQLite
import Testing

@Suite("Migrator")
struct MigratorTests {
    static let accounts = Migration(version: 1, name: "accounts", sql: """
        CREATE TABLE account (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE
        ) STRICT;
        """)
    static let sessions = Migration(version: 2, name: "sessions", sql: """
        CREATE TABLE session (
            id INTEGER PRIMARY KEY,
            account_id INTEGER NOT NULL REFERENCES account(id)
        ) STRICT;
        CREATE INDEX session_by_account ON session(account_id);
        """)
    static let expiry = Migration(version: 5, name: "expiry", sql: """
        ALTER TABLE session ADD COLUMN expire_at INTEGER;
        """)
    /// Creates a table, then fails: the table must not survive.
    static let broken = Migration(version: 6, name: "broken", sql: """
        CREATE TABLE half_done (
            id INTEGER PRIMARY KEY
        ) STRICT;
        INSERT INTO no_such_table(id) VALUES (1);
        """)

    let directory: TemporaryDirectory
    let db: Database

    init() throws {
        directory = try TemporaryDirectory()
        db = try Database(path: directory.path("migrations.sqlite"))
    }

    private func tableNames() throws -> [String] {
        try db.fetchAll(sql: "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name") { $0.string(0) }
    }

    private func schema() throws -> [String] {
        try db.fetchAll(sql: "SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_schema ORDER BY name") { $0.string(0) }
    }

    @Test func freshFileGetsEveryMigration() throws {
        let migrator = try Migrator(migrations: [Self.accounts, Self.sessions, Self.expiry])
        #expect(migrator.latestVersion == 5)

        let applied = try migrator.migrate(db, now: 1_700_000_000_000)
        #expect(applied == [1, 2, 5])
        #expect(try tableNames() == ["account", "schema_migrations", "session"])
        let columns = try db.fetchAll(sql: "SELECT name FROM pragma_table_info('session') ORDER BY cid") { $0.string(0) }
        #expect(columns == ["id", "account_id", "expire_at"])

        let recorded = try migrator.appliedMigrations(db)
        #expect(recorded.map(\.version) == [1, 2, 5])
        #expect(recorded.map(\.name) == ["accounts", "sessions", "expiry"])
        #expect(recorded.map(\.checksum) == [Self.accounts.checksum, Self.sessions.checksum, Self.expiry.checksum])
        #expect(recorded.allSatisfy { $0.appliedAt == 1_700_000_000_000 })

        let rows = try db.fetchAll(sql: "SELECT version, checksum FROM schema_migrations ORDER BY version") {
            "\($0.int64(0)) \($0.string(1))"
        }
        #expect(rows == ["1 \(Self.accounts.checksum)", "2 \(Self.sessions.checksum)", "5 \(Self.expiry.checksum)"])
        #expect(try migrator.problems(db).isEmpty)
    }

    @Test func checksumIsAStableFingerprintOfTheSQL() {
        #expect(Migration(version: 1, name: "a", sql: "").checksum == "cbf29ce484222325")
        #expect(Migration(version: 1, name: "a", sql: "a").checksum == "af63dc4c8601ec8c")
        #expect(Self.accounts.checksum.count == 16)
        #expect(Self.accounts.checksum == Migration(version: 9, name: "other", sql: Self.accounts.sql).checksum)
        #expect(Self.accounts.checksum != Self.sessions.checksum)
    }

    @Test func secondRunChangesNothing() throws {
        let migrator = try Migrator(migrations: [Self.accounts, Self.sessions])
        try migrator.migrate(db, now: 1)
        let schemaBefore = try schema()
        let recordedBefore = try migrator.appliedMigrations(db)
        let changesBefore = db.totalChangesCount

        #expect(try migrator.migrate(db, now: 2) == [])
        #expect(try schema() == schemaBefore)
        #expect(try migrator.appliedMigrations(db) == recordedBefore)
        #expect(db.totalChangesCount == changesBefore)
    }

    @Test func laterRunAppliesOnlyNewMigrations() throws {
        try Migrator(migrations: [Self.accounts]).migrate(db, now: 1)
        let migrator = try Migrator(migrations: [Self.accounts, Self.sessions, Self.expiry])
        #expect(try migrator.problems(db) == [
            "migration 2 (sessions) is not applied",
            "migration 5 (expiry) is not applied",
        ])
        #expect(try migrator.migrate(db, now: 2) == [2, 5])
        #expect(try migrator.appliedMigrations(db).map(\.appliedAt) == [1, 2, 2])
    }

    @Test func fileFromANewerBuildIsRefused() throws {
        let migrator = try Migrator(migrations: [Self.accounts, Self.sessions])
        try Migrator(migrations: [Self.accounts]).migrate(db, now: 1)
        try db.execute(sql: "INSERT INTO schema_migrations(version, name, checksum, applied_at) VALUES (99, 'future', 'ffffffffffffffff', 3)")

        let error = try #require(throws: MigrationError.self) {
            try migrator.migrate(db, now: 2)
        }
        #expect(error.code == "SCHEMA.TOO_NEW")
        #expect(error.message.contains("99"))
        #expect(try migrator.appliedMigrations(db).map(\.version) == [1, 99])
        #expect(!(try tableNames().contains("session")))

        let problems = try migrator.problems(db)
        #expect(problems.count == 2)
        #expect(problems.first?.hasPrefix("SCHEMA.TOO_NEW") == true)
        #expect(problems.last == "migration 2 (sessions) is not applied")
    }

    @Test func recordedMigrationMissingBelowTheLatestIsUnknownNotTooNew() throws {
        let migrator = try Migrator(migrations: [Self.accounts, Self.sessions, Self.expiry])
        try Migrator(migrations: [Self.accounts]).migrate(db, now: 1)
        try db.execute(sql: "INSERT INTO schema_migrations(version, name, checksum, applied_at) VALUES (3, 'branch', 'ffffffffffffffff', 2)")

        let error = try #require(throws: MigrationError.self) {
            try migrator.migrate(db, now: 3)
        }
        #expect(error.code == "SCHEMA.UNKNOWN_MIGRATION")
        #expect(error.message.contains("migration 3 (branch)"))
        #expect(error.message.contains("1, 2, 5"))
        #expect(try migrator.appliedMigrations(db).map(\.version) == [1, 3])
        #expect(try migrator.problems(db).first?.hasPrefix("SCHEMA.UNKNOWN_MIGRATION") == true)
    }

    @Test func editedMigrationIsRefused() throws {
        try Migrator(migrations: [Self.accounts]).migrate(db, now: 1)
        let edited = Migration(version: 1, name: "accounts", sql: Self.accounts.sql + "\nCREATE INDEX account_by_email ON account(email);")
        let migrator = try Migrator(migrations: [edited, Self.sessions])

        let error = try #require(throws: MigrationError.self) {
            try migrator.migrate(db, now: 2)
        }
        #expect(error.code == "SCHEMA.CHECKSUM_MISMATCH")
        #expect(error.message.contains(Self.accounts.checksum))
        #expect(error.message.contains(edited.checksum))
        #expect(try tableNames() == ["account", "schema_migrations"])
        #expect(try migrator.problems(db).first?.hasPrefix("SCHEMA.CHECKSUM_MISMATCH") == true)
    }

    /// A file that recorded a revision listed in `supersededChecksums` is accepted; any
    /// other checksum is still refused.
    @Test func supersededRevisionIsAcceptedAndOthersAreNot() throws {
        let shipped = Migration(version: 1, name: "accounts", sql: Self.accounts.sql + "\n-- shipped by mistake")
        try Migrator(migrations: [shipped]).migrate(db, now: 1)

        var current = Self.accounts
        current.supersededChecksums = [shipped.checksum]
        #expect(try Migrator(migrations: [current, Self.sessions]).migrate(db, now: 2) == [2])
        #expect(try Migrator(migrations: [current, Self.sessions]).problems(db).isEmpty)

        let error = try #require(throws: MigrationError.self) {
            try Migrator(migrations: [Self.accounts, Self.sessions]).migrate(db, now: 3)
        }
        #expect(error.code == "SCHEMA.CHECKSUM_MISMATCH")
    }

    @Test func migrationFailingHalfWayLeavesThePreviousVersion() throws {
        let migrator = try Migrator(migrations: [Self.accounts, Self.sessions, Self.broken])
        let error = try #require(throws: SQLiteError.self) {
            try migrator.migrate(db, now: 1)
        }
        #expect(error.message.contains("no such table: no_such_table"))
        #expect(!db.isInsideTransaction)
        #expect(try tableNames() == ["account", "schema_migrations", "session"])
        #expect(try migrator.appliedMigrations(db).map(\.version) == [1, 2])
        #expect(try migrator.problems(db) == ["migration 6 (broken) is not applied"])

        let other = try Database(path: db.path)
        #expect(try other.fetchAll(sql: "SELECT version FROM schema_migrations ORDER BY version") { $0.int64(0) } == [1, 2])
        #expect(try other.fetchInt64(sql: "SELECT count(*) FROM sqlite_schema WHERE name = 'half_done'") == 0)
    }

    @Test func problemsOnAFreshFileListEveryMigrationAndChangeNothing() throws {
        let migrator = try Migrator(migrations: [Self.accounts, Self.sessions])
        #expect(try migrator.problems(db) == [
            "migration 1 (accounts) is not applied",
            "migration 2 (sessions) is not applied",
        ])
        #expect(try tableNames() == [])
    }

    @Test(arguments: [[2, 1], [1, 1], [0, 1], [-1], [1, 3, 2]])
    func invalidMigrationListsAreRefused(versions: [Int]) {
        let migrations = versions.map { Migration(version: $0, name: "m\($0)", sql: "SELECT 1;") }
        #expect(throws: MigrationError.self) {
            try Migrator(migrations: migrations)
        }
        do {
            _ = try Migrator(migrations: migrations)
        } catch {
            #expect(error.code == "SCHEMA.INVALID_MIGRATIONS")
        }
    }

    @Test func emptyMigrationListIsValid() throws {
        let migrator = try Migrator(migrations: [])
        #expect(migrator.latestVersion == 0)
        #expect(try migrator.migrate(db, now: 1) == [])
        #expect(try tableNames() == ["schema_migrations"])
    }
}
