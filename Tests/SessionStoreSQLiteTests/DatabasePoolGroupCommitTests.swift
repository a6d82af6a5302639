import Foundation
import SessionStoreSQLite
import Testing

/// A write that failed, tagged with the index of the caller that asked for it, so each
/// caller can check that the error it got is its own.
struct WriteFailure: Error, Equatable {
    var index: Int
    var code: ResultCode?
}

// A time limit catches a hang: these take well under a second alone, but the whole suite
// runs them beside a package build and the Python client suite on two cores.
@Suite("DatabasePool: group commit", .timeLimit(.minutes(3)))
struct DatabasePoolGroupCommitTests {
    let directory: TemporaryDirectory
    let path: String

    init() throws {
        directory = try TemporaryDirectory()
        path = directory.path("pool.sqlite")
    }

    private func openPool(maxBatchSize: Int = 256) async throws -> DatabasePool {
        try await DatabasePool.open(path: path, maxBatchSize: maxBatchSize) { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS item (
                    id INTEGER PRIMARY KEY,
                    amount INTEGER NOT NULL CHECK (amount >= 0)
                ) STRICT
                """)
        }
    }

    private static let insert = "INSERT INTO item(id, amount) VALUES (?, ?)"

    /// The ids in the file, read by a connection of its own, closed before returning.
    private func idsInFile() throws -> [Int64] {
        let db = try Database(path: path)
        return try db.fetchAll(sql: "SELECT id FROM item ORDER BY id") { $0.int64(0) }
    }

    /// A batch runs each request in a savepoint, which journals the pages earlier
    /// requests dirtied; the writer keeps those journals in memory rather than in a
    /// temporary file.
    @Test func theWriterKeepsSavepointJournalsInMemory() async throws {
        let pool = try await openPool()
        let writer = try await pool.write { db in try db.fetchInt64(sql: "PRAGMA temp_store") }
        #expect(writer == 2)
        await pool.close()
    }

    @Test func concurrentWritesEachGetTheirOwnOutcome() async throws {
        let pool = try await openPool()
        let failing = Set(stride(from: 7, to: 100, by: 10))
        #expect(failing.count == 10)

        let outcomes = await withTaskGroup(of: (Int, Result<Int64, any Error>).self) { group in
            for index in 0..<100 {
                group.addTask {
                    let result = await outcome {
                        try await pool.write { db in
                            let amount: Int64 = failing.contains(index) ? -1 : Int64(index)
                            do {
                                try db.execute(sql: Self.insert, [.integer(Int64(index)), .integer(amount)])
                            } catch {
                                throw WriteFailure(index: index, code: (error as? SQLiteError)?.code)
                            }
                            return db.lastInsertedRowID
                        }
                    }
                    return (index, result)
                }
            }
            var outcomes: [Int: Result<Int64, any Error>] = [:]
            for await (index, result) in group {
                outcomes[index] = result
            }
            return outcomes
        }

        #expect(outcomes.count == 100)
        for (index, result) in outcomes.sorted(by: { $0.key < $1.key }) {
            switch result {
            case .success(let rowID):
                #expect(!failing.contains(index), "write \(index) should have failed")
                #expect(rowID == Int64(index), "write \(index) got another write's result")
            case .failure(let error):
                #expect(failing.contains(index), "write \(index) failed: \(error)")
                #expect(error as? WriteFailure == WriteFailure(index: index, code: .constraintCheck), "write \(index) got \(error)")
            }
        }

        let expected = (0..<100).filter { !failing.contains($0) }.map(Int64.init)
        #expect(expected.count == 90)
        let readByPool = try await pool.read { db in
            try db.fetchAll(sql: "SELECT id FROM item ORDER BY id") { $0.int64(0) }
        }
        #expect(readByPool == expected)
        #expect(try idsInFile() == expected)
        #expect((1...100).contains(pool.committedWriteTransactions))
        await pool.close()
    }

    /// The first write holds the writer until fifty more are queued behind it, so those
    /// fifty share the next transaction; five of them throw after inserting their row.
    @Test func queuedWritesShareOneTransactionAndFailAlone() async throws {
        let pool = try await openPool()
        let (blocker, outcomes) = try await writesQueuedBehindABlockedWriter(pool, indexes: 0...49) { db in
            try db.execute(sql: Self.insert, [1000, 0])
            return db.lastInsertedRowID
        } write: { index, db in
            try db.execute(sql: Self.insert, [.integer(Int64(index)), .integer(Int64(index))])
            if index % 10 == 3 {
                throw WriteFailure(index: index)
            }
            return db.lastInsertedRowID
        }

        #expect(blocker == 1000)
        for (index, result) in outcomes {
            if index % 10 == 3 {
                #expect(throws: WriteFailure(index: index)) { try result.get() }
            } else {
                #expect(try result.get() == Int64(index))
            }
        }
        let expected = (0..<50).filter { $0 % 10 != 3 }.map(Int64.init) + [1000]
        #expect(try idsInFile() == expected)
        #expect(try await pool.read { db in try db.fetchInt64(sql: "SELECT count(*) FROM item") } == 46)
        #expect(pool.committedWriteTransactions >= 2)
        #expect(pool.committedWriteTransactions <= 3)
        await pool.close()
    }

    /// A batch whose every request throws is rolled back, not committed empty: the count
    /// of committed transactions counts only the blocker's.
    @Test func batchOfFailedWritesCommitsNothing() async throws {
        let pool = try await openPool()
        let (blocker, outcomes) = try await writesQueuedBehindABlockedWriter(pool, indexes: 0...19) { db in
            try db.execute(sql: Self.insert, [1000, 0])
            return db.lastInsertedRowID
        } write: { index, db -> Int64 in
            try db.execute(sql: Self.insert, [.integer(Int64(index)), .integer(Int64(index))])
            throw WriteFailure(index: index)
        }

        #expect(blocker == 1000)
        for (index, result) in outcomes {
            #expect(throws: WriteFailure(index: index)) { try result.get() }
        }
        #expect(try idsInFile() == [1000])
        #expect(pool.committedWriteTransactions == 1)
        try await pool.write { db in try db.execute(sql: Self.insert, [1, 1]) }
        #expect(try idsInFile() == [1, 1000])
        #expect(pool.committedWriteTransactions == 2)
        await pool.close()
    }

    /// A caller whose body throws after writing must not find that write committed, also
    /// when its request is alone in its transaction, with no other request to group it
    /// with (and with group commit turned off, where every request is alone).
    @Test(arguments: [256, 1])
    func writeThatThrowsAloneLeavesNothingBehind(maxBatchSize: Int) async throws {
        let pool = try await openPool(maxBatchSize: maxBatchSize)
        await #expect(throws: WriteFailure(index: 1)) {
            try await pool.write { db in
                try db.execute(sql: Self.insert, [1, 1])
                throw WriteFailure(index: 1)
            }
        }
        try await pool.write { db in try db.execute(sql: Self.insert, [2, 2]) }
        let idsReadByPool = try await pool.read { db in try db.fetchAll(sql: "SELECT id FROM item ORDER BY id") { $0.int64(0) } }
        #expect(idsReadByPool == [2], "the failed write's row was committed")
        await pool.close()
        let idsOnDisk = try idsInFile()
        #expect(idsOnDisk == [2], "the failed write's row was committed")
    }

    @Test func writesRunInOrderOfArrivalForOneCaller() async throws {
        let pool = try await openPool()
        for index in 0..<20 {
            let rowID = try await pool.write { db in
                try db.execute(sql: Self.insert, [.integer(Int64(index)), .integer(Int64(index))])
                return db.lastInsertedRowID
            }
            #expect(rowID == Int64(index))
        }
        #expect(pool.committedWriteTransactions == 20)
        #expect(try idsInFile() == (0..<20).map(Int64.init))
        await pool.close()
    }

    @Test func writeReturningNilIsASuccess() async throws {
        let pool = try await openPool()
        let value: Int64? = try await pool.write { db in
            try db.fetchInt64(sql: "SELECT id FROM item WHERE id = 12345")
        }
        #expect(value == nil)
        await pool.close()
    }
}
