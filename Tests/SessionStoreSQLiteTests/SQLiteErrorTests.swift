import Foundation
import SessionStoreSQLite
import Testing

@Suite("Errors carry SQLite's extended code, message and SQL")
struct SQLiteErrorTests {
    let directory: TemporaryDirectory
    let db: Database

    init() throws {
        directory = try TemporaryDirectory()
        db = try Database(path: directory.path("errors.sqlite"))
        try db.execute(sql: """
            CREATE TABLE account (
                id INTEGER PRIMARY KEY,
                email TEXT NOT NULL UNIQUE,
                age INTEGER CHECK (age >= 0)
            ) STRICT
            """)
    }

    @Test func uniqueConstraintViolation() throws {
        let insert = "INSERT INTO account(email) VALUES (?)"
        try db.execute(sql: insert, ["ada@example.com"])

        let error = try #require(throws: SQLiteError.self) {
            try db.execute(sql: insert, ["ada@example.com"])
        }
        #expect(error.code == .constraintUnique)
        #expect(error.code.rawValue == 2067)
        #expect(error.code.primary == .constraint)
        #expect(error.code.primary.rawValue == 19)
        #expect(error.message == "UNIQUE constraint failed: account.email")
        #expect(error.sql == insert)
        #expect(error.code.description == "SQLITE_CONSTRAINT_UNIQUE")
        #expect(error.description.contains("SQLITE_CONSTRAINT_UNIQUE"))
        #expect(error.description.contains(insert))
        #expect(try db.fetchInt64(sql: "SELECT count(*) FROM account") == 1)
    }

    @Test(arguments: [
        ("INSERT INTO account(email, age) VALUES ('a@example.com', -1)", ResultCode.constraintCheck, "CHECK constraint failed: age >= 0"),
        ("INSERT INTO account(email) VALUES (NULL)", .constraintNotNull, "NOT NULL constraint failed: account.email"),
        ("INSERT INTO account(email, age) VALUES ('a@example.com', 'old')", .constraintDataType, "cannot store TEXT value in INTEGER column account.age"),
        ("INSERT INTO account(id, email) VALUES (1, 'a'), (1, 'b')", .constraintPrimaryKey, "UNIQUE constraint failed: account.id"),
    ])
    func constraintViolations(sql: String, code: ResultCode, message: String) throws {
        let error = try #require(throws: SQLiteError.self) {
            try db.execute(sql: sql)
        }
        #expect(error.code == code)
        #expect(error.code.primary == .constraint)
        #expect(error.message == message)
        #expect(error.sql == sql)
        #expect(try db.fetchInt64(sql: "SELECT count(*) FROM account") == 0)
    }

    @Test func syntaxErrorIsReportedWhenPreparing() throws {
        let sql = "SELEC 1"
        let error = try #require(throws: SQLiteError.self) {
            try db.makeStatement(sql: sql)
        }
        #expect(error.code == .error)
        #expect(error.message.contains("syntax error"))
        #expect(error.sql == sql)
    }

    @Test func unknownTableIsAnError() throws {
        let sql = "SELECT * FROM missing"
        let error = try #require(throws: SQLiteError.self) {
            try db.fetchAll(sql: sql) { $0.value(0) }
        }
        #expect(error.code == .error)
        #expect(error.message == "no such table: missing")
        #expect(error.sql == sql)
    }

    @Test func scriptErrorsCarryTheirCodeAndScript() throws {
        let script = """
            INSERT INTO account(email) VALUES ('x@example.com');
            INSERT INTO account(email) VALUES ('x@example.com');
            """
        let error = try #require(throws: SQLiteError.self) {
            try db.executeScript(sql: script)
        }
        #expect(error.code == .constraintUnique)
        #expect(error.message == "UNIQUE constraint failed: account.email")
        #expect(error.sql == script)
    }

    @Test func resultCodeNames() {
        #expect(ResultCode.busy.description == "SQLITE_BUSY")
        #expect(ResultCode.busySnapshot.primary == .busy)
        #expect(ResultCode.constraintForeignKey.rawValue == 787)
        #expect(ResultCode(rawValue: 2067) == .constraintUnique)
        #expect(ResultCode.constraintUnique != .constraint)
    }
}
