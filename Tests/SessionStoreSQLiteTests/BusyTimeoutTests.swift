import Foundation
import SessionStoreSQLite
import Testing

/// Two connections on one file; the second runs on a Foundation thread so that its busy
/// handler may block without holding a thread of Swift's cooperative pool.
@Suite("Busy timeout: a second writer waits for the first")
struct BusyTimeoutTests {
    let directory: TemporaryDirectory
    let path: String

    init() throws {
        directory = try TemporaryDirectory()
        path = directory.path("busy.sqlite")
        let db = try Database(path: path)
        try db.execute(sql: "CREATE TABLE entry(id INTEGER PRIMARY KEY) STRICT")
    }

    @Test func writerWaitsForTheLockAndThenSucceeds() throws {
        let holder = try Database(path: path)
        let opened = DispatchSemaphore(value: 0)
        let go = DispatchSemaphore(value: 0)
        let released = LockedValue(false)
        let path = path

        let waiter = BackgroundThread { () throws -> (sawRelease: Bool, countSeen: Int64?) in
            let db = try Database(path: path, configuration: DatabaseConfiguration(busyTimeout: .seconds(2)))
            opened.signal()
            go.wait()
            try db.execute(sql: "BEGIN IMMEDIATE")
            let sawRelease = released.value
            let countSeen = try db.fetchInt64(sql: "SELECT count(*) FROM entry")
            try db.execute(sql: "INSERT INTO entry(id) VALUES (2)")
            try db.execute(sql: "COMMIT")
            return (sawRelease, countSeen)
        }

        #expect(opened.wait(timeout: .now() + 10) == .success)
        try holder.execute(sql: "BEGIN IMMEDIATE")
        try holder.execute(sql: "INSERT INTO entry(id) VALUES (1)")
        go.signal()
        Thread.sleep(forTimeInterval: 0.3)
        released.update { $0 = true }
        try holder.execute(sql: "COMMIT")

        let outcome = try #require(waiter.join(), "the waiting connection did not finish")
        let result = try outcome.get()
        #expect(result.sawRelease, "BEGIN IMMEDIATE returned before the holder released its lock")
        #expect(result.countSeen == 1)
        #expect(try holder.fetchAll(sql: "SELECT id FROM entry ORDER BY id") { $0.int64(0) } == [1, 2])
    }

    @Test func writerWithoutPatienceFailsWithBusy() throws {
        let holder = try Database(path: path)
        let opened = DispatchSemaphore(value: 0)
        let go = DispatchSemaphore(value: 0)
        let path = path

        let impatient = BackgroundThread { () throws -> SQLiteError? in
            let db = try Database(path: path, configuration: DatabaseConfiguration(busyTimeout: .milliseconds(1)))
            opened.signal()
            go.wait()
            do {
                try db.execute(sql: "BEGIN IMMEDIATE")
                try db.execute(sql: "ROLLBACK")
                return nil
            } catch let error as SQLiteError {
                return error
            }
        }

        #expect(opened.wait(timeout: .now() + 10) == .success)
        try holder.execute(sql: "BEGIN IMMEDIATE")
        try holder.execute(sql: "INSERT INTO entry(id) VALUES (1)")
        go.signal()
        let outcome = try #require(impatient.join(), "the impatient connection did not finish")
        try holder.execute(sql: "COMMIT")

        let error = try #require(try outcome.get(), "BEGIN IMMEDIATE succeeded while another connection held the lock")
        #expect(error.code.primary == .busy)
        #expect(error.sql == "BEGIN IMMEDIATE")
        #expect(error.message == "database is locked")
        #expect(try holder.fetchAll(sql: "SELECT id FROM entry") { $0.int64(0) } == [1])
    }

    @Test func readerIsNotBlockedByAWriter() throws {
        let holder = try Database(path: path)
        try holder.execute(sql: "BEGIN IMMEDIATE")
        try holder.execute(sql: "INSERT INTO entry(id) VALUES (1)")
        let reader = try Database(path: path, configuration: DatabaseConfiguration(busyTimeout: .milliseconds(1)))
        #expect(try reader.fetchInt64(sql: "SELECT count(*) FROM entry") == 0)
        try holder.execute(sql: "COMMIT")
        #expect(try reader.fetchInt64(sql: "SELECT count(*) FROM entry") == 1)
    }
}
