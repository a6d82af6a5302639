import Foundation
import SessionStoreSQLite
import Testing

/// A deferred foreign key is checked only at `COMMIT`: a body that breaks one runs
/// without error, and the failure comes from the commit of its batch.
// A time limit catches a hang: these take well under a second alone, but the whole suite
// runs them beside a package build and the Python client suite on two cores.
@Suite("DatabasePool: no caller hears of an uncommitted change", .timeLimit(.minutes(3)))
struct DatabasePoolCommitFailureTests {
    let directory: TemporaryDirectory
    let path: String

    init() throws {
        directory = try TemporaryDirectory()
        path = directory.path("commit.sqlite")
    }

    private func openPool() async throws -> DatabasePool {
        try await DatabasePool.open(path: path) { db in
            try db.executeScript(sql: """
                CREATE TABLE parent (
                    id INTEGER PRIMARY KEY
                ) STRICT;
                CREATE TABLE child (
                    id INTEGER PRIMARY KEY,
                    parent_id INTEGER NOT NULL REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED
                ) STRICT;
                INSERT INTO parent(id) VALUES (1);
                """)
        }
    }

    private static let insertChild = "INSERT INTO child(id, parent_id) VALUES (?, ?)"

    private func childIDsInFile() throws -> [Int64] {
        let db = try Database(path: path)
        return try db.fetchAll(sql: "SELECT id FROM child ORDER BY id") { $0.int64(0) }
    }

    @Test func failedCommitOfALoneWriteIsReportedToItsCaller() async throws {
        let pool = try await openPool()
        let bodyFinished = LockedValue(false)

        let error = try await #require(throws: SQLiteError.self) {
            try await pool.write { db in
                try db.execute(sql: Self.insertChild, [1, 999])
                bodyFinished.update { $0 = true }
                return db.lastInsertedRowID
            }
        }
        #expect(bodyFinished.value, "the body itself should have succeeded")
        #expect(error.code == .constraintForeignKey)
        #expect(error.sql == "COMMIT")
        #expect(pool.committedWriteTransactions == 0)

        #expect(try await pool.read { db in try db.fetchInt64(sql: "SELECT count(*) FROM child") } == 0)
        #expect(try childIDsInFile() == [])

        let rowID = try await pool.write { db in
            try db.execute(sql: Self.insertChild, [2, 1])
            return db.lastInsertedRowID
        }
        #expect(rowID == 2)
        #expect(try childIDsInFile() == [2])
        await pool.close()
    }

    /// Five writes queued behind a blocked one share a transaction; one of them breaks
    /// the deferred key, so the commit fails and all five must hear of it.
    @Test func failedCommitOfABatchIsReportedToEveryRequestInIt() async throws {
        let pool = try await openPool()
        let bodiesFinished = LockedValue(0)
        let (blocker, outcomes) = try await writesQueuedBehindABlockedWriter(pool, indexes: 1...5) { db in
            try db.execute(sql: Self.insertChild, [100, 1])
            return db.lastInsertedRowID
        } write: { index, db in
            let parent: Int64 = index == 3 ? 999 : 1
            try db.execute(sql: Self.insertChild, [.integer(Int64(index)), .integer(parent)])
            bodiesFinished.update { $0 += 1 }
            return db.lastInsertedRowID
        }

        #expect(blocker == 100)
        #expect(bodiesFinished.value == 5)
        #expect(outcomes.count == 5)
        for (index, result) in outcomes.sorted(by: { $0.key < $1.key }) {
            let error = #expect(throws: SQLiteError.self, "write \(index) succeeded but was not committed") {
                try result.get()
            }
            #expect(error?.code == .constraintForeignKey)
        }
        #expect(try childIDsInFile() == [100])
        #expect(pool.committedWriteTransactions == 1)
        await pool.close()
    }
}
