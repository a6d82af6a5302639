import Foundation
import SessionStoreSQLite
import Testing

@Suite("Transactions and savepoints")
struct TransactionTests {
    struct Abort: Error, Equatable {}

    let directory: TemporaryDirectory
    let db: Database

    init() throws {
        directory = try TemporaryDirectory()
        db = try Database(path: directory.path("transactions.sqlite"))
        try db.execute(sql: """
            CREATE TABLE entry (
                id INTEGER PRIMARY KEY,
                label TEXT NOT NULL UNIQUE
            ) STRICT
            """)
    }

    private func insert(_ label: String) throws {
        try db.execute(sql: "INSERT INTO entry(label) VALUES (?)", [.text(label)])
    }

    private func labels(of database: Database? = nil) throws -> [String] {
        try (database ?? db).fetchAll(sql: "SELECT label FROM entry ORDER BY id") { $0.string(0) }
    }

    @Test func committedTransactionIsVisibleToAnotherConnection() throws {
        let result = try db.inTransaction(.immediate) {
            try insert("a")
            try insert("b")
            return db.isInsideTransaction
        }
        #expect(result)
        #expect(!db.isInsideTransaction)
        let other = try Database(path: db.path)
        #expect(try labels(of: other) == ["a", "b"])
    }

    @Test func failingStatementInsideImmediateTransactionLeavesNoPartialWrite() throws {
        let error = try #require(throws: SQLiteError.self) {
            try db.inTransaction(.immediate) {
                try insert("first")
                try insert("first")
            }
        }
        #expect(error.code == .constraintUnique)
        #expect(!db.isInsideTransaction)
        #expect(try labels().isEmpty)
        let other = try Database(path: db.path)
        #expect(try labels(of: other).isEmpty)
    }

    @Test func swiftErrorRollsTheTransactionBack() throws {
        #expect(throws: Abort.self) {
            try db.inTransaction {
                try insert("a")
                throw Abort()
            }
        }
        #expect(!db.isInsideTransaction)
        #expect(try labels().isEmpty)
    }

    @Test func transactionDoesNotNest() throws {
        try db.inTransaction {
            try insert("outer")
            let error = try #require(throws: SQLiteError.self) {
                try db.inTransaction(.deferred) { try insert("inner") }
            }
            #expect(error.message.contains("within a transaction"))
            #expect(db.isInsideTransaction)
        }
        #expect(try labels() == ["outer"])
    }

    @Test func failedCommitRollsBackAndThrows() throws {
        try db.execute(sql: """
            CREATE TABLE parent (
                id INTEGER PRIMARY KEY
            ) STRICT
            """)
        try db.execute(sql: """
            CREATE TABLE child (
                id INTEGER PRIMARY KEY,
                parent_id INTEGER NOT NULL REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED
            ) STRICT
            """)
        let error = try #require(throws: SQLiteError.self) {
            try db.inTransaction {
                try db.execute(sql: "INSERT INTO child(id, parent_id) VALUES (1, 42)")
            }
        }
        #expect(error.code == .constraintForeignKey)
        #expect(error.sql == "COMMIT")
        #expect(!db.isInsideTransaction)
        #expect(try db.fetchInt64(sql: "SELECT count(*) FROM child") == 0)
    }

    @Test func savepointRollbackKeepsTheOuterTransactionsEarlierWrites() throws {
        try db.inTransaction {
            try insert("before")
            #expect(throws: Abort.self) {
                try db.inSavepoint {
                    try insert("inside")
                    throw Abort()
                }
            }
            #expect(db.isInsideTransaction)
            try insert("after")
        }
        #expect(try labels() == ["before", "after"])
    }

    @Test func failingStatementInSavepointIsUndoneAlone() throws {
        try db.inTransaction {
            try insert("taken")
            let error = try #require(throws: SQLiteError.self) {
                try db.inSavepoint {
                    try insert("fresh")
                    try insert("taken")
                }
            }
            #expect(error.code == .constraintUnique)
            try insert("fresh")
        }
        #expect(try labels() == ["taken", "fresh"])
    }

    /// Runs `body` in a savepoint that `body` aborts; true when the abort came back out.
    private func abortedSavepoint(_ body: () throws -> Void) throws -> Bool {
        do {
            try db.inSavepoint {
                try body()
                throw Abort()
            }
        } catch is Abort {
            return true
        }
        return false
    }

    @Test func nestedSavepoints() throws {
        var aborts: [Bool] = []
        try db.inTransaction {
            try insert("outer")
            try db.inSavepoint {
                try insert("level 1")
                aborts.append(try abortedSavepoint {
                    try insert("level 2, undone")
                    try db.inSavepoint { try insert("level 3, undone with its parent") }
                })
                try db.inSavepoint { try insert("level 2, kept") }
            }
            aborts.append(try abortedSavepoint {
                try insert("level 1, undone")
                try db.inSavepoint { try insert("level 2, undone with its parent") }
            })
            aborts.append(db.isInsideTransaction)
        }
        #expect(aborts == [true, true, true])
        #expect(try labels() == ["outer", "level 1", "level 2, kept"])
    }

    @Test func savepointWithoutTransactionCommitsOrRollsBackByItself() throws {
        let value = try db.inSavepoint {
            try insert("kept")
            return 7
        }
        #expect(value == 7)
        #expect(!db.isInsideTransaction)
        #expect(throws: Abort.self) {
            try db.inSavepoint {
                try insert("dropped")
                throw Abort()
            }
        }
        #expect(!db.isInsideTransaction)
        let other = try Database(path: db.path)
        #expect(try labels(of: other) == ["kept"])
    }

    @Test func rollbackIfNeededWithoutTransactionDoesNothing() throws {
        try insert("a")
        db.rollbackIfNeeded()
        try db.execute(sql: "BEGIN")
        try insert("b")
        #expect(db.isInsideTransaction)
        db.rollbackIfNeeded()
        #expect(!db.isInsideTransaction)
        #expect(try labels() == ["a"])
    }
}
