import Foundation
import SessionStoreCore
import SessionStoreSQLite
import Synchronization
import Testing

@Suite("Opening a file: refusals, permissions and connection settings")
struct OpeningTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    private func posixPermissions(_ path: String) throws -> Int {
        let value = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions])
        if let number = value as? NSNumber {
            return number.intValue
        }
        return try #require(value as? Int)
    }

    /// Process-wide settings can only be chosen before SQLite is first used; afterwards
    /// the call says so instead of pretending.
    @Test func memoryStatisticsCannotBeTurnedOffOnceSQLiteIsInUse() throws {
        let db = try Database(path: directory.path("in-use.sqlite"))
        try db.execute(sql: "CREATE TABLE t (x INTEGER) STRICT")
        #expect(SQLiteProcessTuning.disableMemoryStatistics() == false)
        try db.execute(sql: "INSERT INTO t VALUES (1)")
        #expect(try db.fetchInt64(sql: "SELECT count(*) FROM t") == 1)
    }

    @Test func textFileIsNotADatabaseAndIsLeftUntouched() throws {
        let path = directory.path("notes.txt")
        let contents = Data("hello\nworld\n".utf8)
        try contents.write(to: URL(filePath: path))

        let error = try #require(throws: SQLiteError.self) {
            try Database(path: path)
        }
        #expect(error.code.primary == .notADatabase)
        #expect(error.message.contains("not an SQLite database"))
        #expect(error.message.contains(path))

        #expect(try Data(contentsOf: URL(filePath: path)) == contents)
        for suffix in ["-wal", "-shm", "-journal"] {
            #expect(!FileManager.default.fileExists(atPath: path + suffix), "\(suffix) was created")
        }
        #expect(try directory.fileNames() == ["notes.txt"])
    }

    @Test func pathInMissingDirectoryCannotBeOpened() throws {
        let path = directory.path("missing/dir/db.sqlite")
        let error = try #require(throws: SQLiteError.self) {
            try Database(path: path)
        }
        #expect(error.code == .cantOpen)
        #expect(error.message.contains(path))
        #expect(try directory.fileNames().isEmpty)
    }

    @Test(arguments: [
        DatabaseConfiguration(readOnly: true),
        DatabaseConfiguration(createIfMissing: false),
    ])
    func missingFileIsNotCreatedWhenCreationIsNotAllowed(configuration: DatabaseConfiguration) throws {
        let path = directory.path("absent.sqlite")
        let error = try #require(throws: SQLiteError.self) {
            try Database(path: path, configuration: configuration)
        }
        #expect(error.code == .cantOpen)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func emptyPathIsRefused() throws {
        let error = try #require(throws: SQLiteError.self) {
            try Database(path: "")
        }
        #expect(error.code == .cantOpen)
    }

    @Test func newFileAndItsCompanionsAreReadableByTheOwnerOnly() throws {
        let path = directory.path("private.sqlite")
        let db = try Database(path: path)
        #expect(try posixPermissions(path) == 0o600)

        try db.execute(sql: "CREATE TABLE secret(value TEXT) STRICT")
        try db.execute(sql: "INSERT INTO secret(value) VALUES ('x')")
        for companion in [path + "-wal", path + "-shm"] {
            #expect(FileManager.default.fileExists(atPath: companion))
            #expect(try posixPermissions(companion) == 0o600, "\(companion)")
        }
    }

    /// A file of this user's that the group could read is made private, and the change
    /// is reported; a read-only connection changes nothing.
    @Test func anExistingFileOthersCouldReadIsMadePrivate() throws {
        let path = directory.path("shared.sqlite")
        #expect(FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o640]))
        _ = try Database(path: path, configuration: DatabaseConfiguration(readOnly: true))
        #expect(try posixPermissions(path) == 0o640)
        let reported = Mutex<[String: UInt32]>([:])
        var configuration = DatabaseConfiguration()
        configuration.permissionsTightened = { file, mode in reported.withLock { $0[file] = mode } }
        _ = try Database(path: path, configuration: configuration)
        #expect(try posixPermissions(path) == 0o600)
        #expect(reported.withLock { $0 } == [path: 0o640])
    }

    @Test(arguments: zip([Durability.normal, .full], [Int64(1), 2]))
    func connectionSettings(durability: Durability, synchronous: Int64) throws {
        let db = try Database(path: directory.path("settings.sqlite"), configuration: DatabaseConfiguration(durability: durability))
        #expect(try db.fetchOne(sql: "PRAGMA journal_mode") { $0.string(0) } == "wal")
        #expect(try db.fetchInt64(sql: "PRAGMA foreign_keys") == 1)
        #expect(try db.fetchInt64(sql: "PRAGMA synchronous") == synchronous)
    }

    @Test(arguments: [(Duration.seconds(2), Int64(2000)), (.milliseconds(1), 1), (.milliseconds(1500), 1500), (.zero, 0)])
    func busyTimeoutIsConfigured(timeout: Duration, milliseconds: Int64) throws {
        let db = try Database(path: directory.path("timeout.sqlite"), configuration: DatabaseConfiguration(busyTimeout: timeout))
        #expect(try db.fetchInt64(sql: "PRAGMA busy_timeout") == milliseconds)
    }

    @Test func foreignKeysAreEnforced() throws {
        let db = try Database(path: directory.path("fk.sqlite"))
        try db.execute(sql: "CREATE TABLE parent(id INTEGER PRIMARY KEY) STRICT")
        try db.execute(sql: "CREATE TABLE child(parent_id INTEGER NOT NULL REFERENCES parent(id)) STRICT")
        let error = try #require(throws: SQLiteError.self) {
            try db.execute(sql: "INSERT INTO child(parent_id) VALUES (1)")
        }
        #expect(error.code == .constraintForeignKey)
    }

    @Test func doubleQuotedStringLiteralsAreRefused() throws {
        let db = try Database(path: directory.path("dqs.sqlite"))
        let sql = #"SELECT "nosuchcolumn""#
        let error = try #require(throws: SQLiteError.self) {
            try db.fetchOne(sql: sql) { $0.string(0) }
        }
        #expect(error.code == .error)
        #expect(error.message == "no such column: nosuchcolumn")
        #expect(error.sql == sql)
        #expect(try db.fetchOne(sql: "SELECT 'literal'") { $0.string(0) } == "literal")

        let ddl = #"CREATE TABLE t(x TEXT CHECK (x <> "nosuchcolumn")) STRICT"#
        let ddlError = try #require(throws: SQLiteError.self) {
            try db.execute(sql: ddl)
        }
        #expect(ddlError.message == "no such column: nosuchcolumn")
    }

    @Test func readOnlyConnectionCannotWrite() throws {
        let path = directory.path("readonly.sqlite")
        let writer = try Database(path: path)
        try writer.execute(sql: "CREATE TABLE t(x INTEGER) STRICT")
        try writer.execute(sql: "INSERT INTO t(x) VALUES (1)")

        let reader = try Database(path: path, configuration: DatabaseConfiguration(readOnly: true))
        #expect(try reader.fetchInt64(sql: "SELECT x FROM t") == 1)
        let error = try #require(throws: SQLiteError.self) {
            try reader.execute(sql: "INSERT INTO t(x) VALUES (2)")
        }
        #expect(error.code.primary == .readOnly)
    }
}
