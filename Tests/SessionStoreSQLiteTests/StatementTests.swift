import Foundation
import SessionStoreSQLite
import Testing

@Suite("Statements: binding, reuse after errors and the cache")
struct StatementTests {
    let directory: TemporaryDirectory
    let db: Database

    init() throws {
        directory = try TemporaryDirectory()
        db = try Database(path: directory.path("statements.sqlite"))
        try db.execute(sql: """
            CREATE TABLE user (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL UNIQUE
            ) STRICT
            """)
    }

    private func names() throws -> [String] {
        try db.fetchAll(sql: "SELECT name FROM user ORDER BY id") { $0.string(0) }
    }

    @Test func sqlThatFailedRunsAgainWithOtherArguments() throws {
        let insert = "INSERT INTO user(name) VALUES (?)"
        try db.execute(sql: insert, ["ada"])
        #expect(throws: SQLiteError.self) {
            try db.execute(sql: insert, ["ada"])
        }
        try db.execute(sql: insert, ["grace"])
        #expect(try names() == ["ada", "grace"])
    }

    @Test func statementThatFailedStepsAgainAfterRebinding() throws {
        let statement = try db.makeStatement(sql: "INSERT INTO user(name) VALUES (?)")
        try statement.bind(["ada"])
        #expect(try statement.step() == false)
        try statement.bind(["ada"])
        let error = try #require(throws: SQLiteError.self) {
            try statement.step()
        }
        #expect(error.code == .constraintUnique)
        try statement.bind(["grace"])
        #expect(try statement.step() == false)
        #expect(try names() == ["ada", "grace"])
    }

    @Test(arguments: [0, 1, 3])
    func wrongArgumentCountIsARangeError(count: Int) throws {
        let insert = "INSERT INTO user(id, name) VALUES (?, ?)"
        let arguments = (0..<count).map { DatabaseValue.integer(Int64($0 + 1)) }
        let error = try #require(throws: SQLiteError.self) {
            try db.execute(sql: insert, arguments)
        }
        #expect(error.code == .range)
        #expect(error.sql == insert)
        #expect(error.message.contains("expected 2 arguments, got \(count)"))
        #expect(try names().isEmpty)

        try db.execute(sql: insert, [7, "ada"])
        #expect(try names() == ["ada"])
    }

    @Test func parameterCount() throws {
        #expect(try db.makeStatement(sql: "SELECT ?, ?, ?").parameterCount == 3)
        #expect(try db.makeStatement(sql: "SELECT 1").parameterCount == 0)
    }

    @Test func cachedStatementIsTheSameInstanceForTheSameSQL() throws {
        let sql = "SELECT name FROM user WHERE id = ?"
        let first = try db.cachedStatement(sql: sql)
        let second = try db.cachedStatement(sql: sql)
        #expect(first === second)
        #expect(first.sql == sql)

        let other = try db.cachedStatement(sql: "SELECT id FROM user")
        #expect(other !== first)
        #expect(try db.makeStatement(sql: sql) !== first)
    }

    @Test func executeUsesTheCachedStatement() throws {
        let insert = "INSERT INTO user(name) VALUES (?)"
        let cached = try db.cachedStatement(sql: insert)
        try db.execute(sql: insert, ["ada"])
        try db.execute(sql: insert, ["grace"])
        #expect(try db.cachedStatement(sql: insert) === cached)
    }

    @Test func failedStatementIsEvictedFromTheCache() throws {
        let insert = "INSERT INTO user(name) VALUES (?)"
        try db.execute(sql: insert, ["ada"])
        let before = try db.cachedStatement(sql: insert)
        #expect(throws: SQLiteError.self) {
            try db.execute(sql: insert, ["ada"])
        }
        let after = try db.cachedStatement(sql: insert)
        #expect(after !== before)
        try db.execute(sql: insert, ["grace"])
        #expect(try names() == ["ada", "grace"])
    }

    @Test func fetchHelpers() throws {
        try db.execute(sql: "INSERT INTO user(id, name) VALUES (?, ?), (?, ?)", [10, "ada", 20, "grace"])
        #expect(db.changesCount == 2)
        #expect(db.lastInsertedRowID == 20)
        #expect(try db.fetchInt64(sql: "SELECT id FROM user WHERE name = ?", ["grace"]) == 20)
        #expect(try db.fetchInt64(sql: "SELECT id FROM user WHERE name = ?", ["nobody"]) == nil)
        #expect(try db.fetchInt64(sql: "SELECT NULL") == nil)
        #expect(try db.fetchOne(sql: "SELECT name FROM user ORDER BY id DESC") { $0.string(0) } == "grace")
        #expect(try db.fetchAll(sql: "SELECT id FROM user WHERE id > ?", [100]) { $0.int64(0) } == [])
        try db.execute(sql: "DELETE FROM user")
        #expect(db.changesCount == 2)
    }
}
