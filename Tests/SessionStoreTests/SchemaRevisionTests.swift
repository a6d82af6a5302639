import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

/// Migration 0007 brings files of every earlier schema to counting live sessions by data
/// source and state: files whose 0001 is the original, and files that recorded the edited
/// revision of 0001 that carried those changes for a while. Every revision of a migration
/// that shipped and was replaced opens and reaches the schema of a new file.
@Suite("Schema: live counts by state")
struct SchemaRevisionTests {
    private static func migrate(_ test: TestStore, upTo version: Int) throws -> Database {
        let db = try Database(path: test.path)
        _ = try Migrator(migrations: SessionStore.migrations.filter { $0.version <= version }).migrate(db, now: TestStore.start)
        return db
    }

    private static func insertSession(_ db: Database, key: String, source: String, state: String, ended: Bool) throws {
        try db.execute(
            sql: """
                INSERT INTO sessions (key, user_id, data_source, type, version, utc_offset_seconds, state,
                    created_at, last_access_at, ended_at)
                VALUES (?, 'ada', ?, 'default', 1, 0, ?, 1, 1, ?)
                """,
            [.text(key), .text(source), .text(state), ended ? .integer(2) : .null])
    }

    private static func countsByState(_ test: TestStore) throws -> [String: Int64] {
        try test.inspect { db in
            let rows = try db.fetchAll(sql: "SELECT name, live FROM live_session_counts WHERE scope = 'data_source_state'") {
                ($0.string(0).replacingOccurrences(of: "\t", with: "/"), $0.int64(1))
            }
            return Dictionary(rows.filter { $0.1 > 0 }, uniquingKeysWith: +)
        }
    }

    @Test func sessionsOfAnEarlierFileAreCountedByState() async throws {
        let test = TestStore()
        do {
            let db = try Self.migrate(test, upTo: 6)
            try Self.insertSession(db, key: "k1", source: "a", state: "idle", ended: false)
            try Self.insertSession(db, key: "k2", source: "a", state: "idle", ended: false)
            try Self.insertSession(db, key: "k3", source: "a", state: "active", ended: false)
            try Self.insertSession(db, key: "k4", source: "b", state: "closed", ended: true)
        }
        let opened = try await test.withStore { store in
            let opened = try await store.openSession(userId: "bob", dataSource: "b")
            return opened
        }

        #expect(try Self.countsByState(test) == ["a/idle": 2, "a/active": 1, "b/idle": 1])
        #expect(try test.count("SELECT count(*) FROM sessions WHERE key = ?", [.text(opened.key)]) == 1)
        let index = try test.inspect { db in
            try db.fetchOne(sql: "SELECT sql FROM sqlite_schema WHERE name = 'sessions_by_user_client_id'") { $0.string(0) }
        }
        #expect(index?.contains("WHERE client_session_id IS NOT NULL") == true)
    }

    /// A file created while 0001 carried these changes recorded that revision's checksum:
    /// it opens, and 0007 leaves it counting the same.
    @Test func aFileThatRecordedTheEditedRevisionOpens() async throws {
        let test = TestStore()
        do {
            let db = try Self.migrate(test, upTo: 7)
            try Self.insertSession(db, key: "k1", source: "a", state: "idle", ended: false)
            // What that file would look like: 0001's edited checksum, no 0007 yet.
            let edited = "10a8b5e87e6d5c17"
            #expect(SessionStore.migrations.first?.supersededChecksums.contains(edited) == true)
            try db.execute(sql: "UPDATE schema_migrations SET checksum = ? WHERE version = 1", [.text(edited)])
            try db.execute(sql: "DELETE FROM schema_migrations WHERE version = 7")
        }
        try await test.withStore { store in
            _ = try await store.openSession(userId: "bob", dataSource: "a")
        }
        #expect(try Self.countsByState(test) == ["a/idle": 2])
        #expect(try test.count("SELECT count(*) FROM schema_migrations WHERE version = 7") == 1)
    }

    /// A revision of a migration that shipped and was later replaced: its text, kept in
    /// `Tests/Fixtures/ShippedMigrations/NNNN_name.CHECKSUM.sql`.
    struct ShippedRevision: Sendable, CustomTestStringConvertible {
        let migration: Migration
        let checksumInFileName: String
        var testDescription: String { "\(migration.version) (\(migration.name)) \(checksumInFileName)" }
    }

    static let shippedRevisions: [ShippedRevision] = {
        let directory = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .appending(path: "Fixtures/ShippedMigrations")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".sql") }.sorted().compactMap { file in
            let parts = file.dropLast(".sql".count).split(separator: ".")
            let nameParts = parts.first?.split(separator: "_", maxSplits: 1) ?? []
            guard parts.count == 2, nameParts.count == 2, let version = Int(nameParts[0]),
                let sql = try? String(contentsOf: directory.appending(path: file), encoding: .utf8)
            else { return nil }
            return ShippedRevision(
                migration: Migration(version: version, name: String(nameParts[1]), sql: sql), checksumInFileName: String(parts[1]))
        }
    }()

    /// Every checksum the store accepts in place of a migration's own has its text in the
    /// fixtures, and every fixture is accepted: neither list can drift from the other.
    @Test func everySupersededChecksumHasItsShippedText() {
        let fixtures = Set(Self.shippedRevisions.map { "\($0.migration.version):\($0.migration.checksum)" })
        let accepted = Set(SessionStore.migrations.flatMap { migration in
            migration.supersededChecksums.map { "\(migration.version):\($0)" }
        })
        #expect(!fixtures.isEmpty)
        #expect(fixtures == accepted)
        for revision in Self.shippedRevisions {
            #expect(revision.migration.checksum == revision.checksumInFileName, "\(revision.testDescription)")
        }
    }

    private static func schema(_ db: Database) throws -> [String] {
        try db.fetchAll(sql: "SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name") {
            "\($0.string(0)) \($0.string(1)): \($0.optionalString(2) ?? "")"
        }
    }

    /// A file whose newest migration was that revision opens with this build, and the
    /// migrations after it leave exactly the schema of a file created today.
    @Test(arguments: shippedRevisions)
    func aFileLeftByAShippedRevisionReachesTheCurrentSchema(_ revision: ShippedRevision) async throws {
        let fresh = TestStore()
        try await fresh.open().close()
        let expected = try fresh.inspect(Self.schema)

        let test = TestStore()
        do {
            let earlier = SessionStore.migrations.filter { $0.version < revision.migration.version }
            _ = try Migrator(migrations: earlier + [revision.migration]).migrate(try Database(path: test.path), now: TestStore.start)
        }
        try await test.withStore { store in
            _ = try await store.openSession(userId: "ada", sessionId: "nb-1")
        }
        let recorded = try test.inspect { db in
            try db.fetchOne(sql: "SELECT checksum FROM schema_migrations WHERE version = ?", [.integer(Int64(revision.migration.version))]) {
                $0.string(0)
            }
        }
        #expect(recorded == revision.checksumInFileName)
        #expect(try test.inspect(Self.schema) == expected)
    }

    @Test func anyOtherEditOfAShippedMigrationIsStillRefused() async throws {
        let test = TestStore()
        do {
            let db = try Self.migrate(test, upTo: 7)
            try db.execute(sql: "UPDATE schema_migrations SET checksum = 'ffffffffffffffff' WHERE version = 1")
        }
        await expectError("SCHEMA.CHECKSUM_MISMATCH") {
            try await test.withStore { _ in }
        }
    }
}
