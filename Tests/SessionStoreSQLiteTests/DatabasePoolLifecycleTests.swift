import Foundation
import SessionStoreSQLite
import Testing

// A time limit catches a hang: these take well under a second alone, but the whole suite
// runs them beside a package build and the Python client suite on two cores.
@Suite("DatabasePool: opening and closing", .timeLimit(.minutes(3)))
struct DatabasePoolLifecycleTests {
    let directory: TemporaryDirectory
    let path: String

    init() throws {
        directory = try TemporaryDirectory()
        path = directory.path("lifecycle.sqlite")
    }

    private func openPool() async throws -> DatabasePool {
        try await DatabasePool.open(path: path) { db in
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS entry(id INTEGER PRIMARY KEY) STRICT")
        }
    }

    @Test func closedPoolRefusesWritesAndReads() async throws {
        let pool = try await openPool()
        try await pool.write { db in try db.execute(sql: "INSERT INTO entry(id) VALUES (1)") }
        await pool.close()

        await #expect(throws: DatabaseClosedError.self) {
            try await pool.write { db in try db.execute(sql: "INSERT INTO entry(id) VALUES (2)") }
        }
        await #expect(throws: DatabaseClosedError.self) {
            try await pool.read { db in try db.fetchInt64(sql: "SELECT count(*) FROM entry") }
        }
        await pool.close()

        let db = try Database(path: path)
        #expect(try db.fetchAll(sql: "SELECT id FROM entry") { $0.int64(0) } == [1])
    }

    @Test func closeCheckpointsAndRemovesTheWAL() async throws {
        let pool = try await openPool()
        for id in 1...10 {
            try await pool.write { db in try db.execute(sql: "INSERT INTO entry(id) VALUES (?)", [.integer(Int64(id))]) }
        }
        #expect(try await pool.read { db in try db.fetchInt64(sql: "SELECT count(*) FROM entry") } == 10)
        #expect(FileManager.default.fileExists(atPath: path + "-wal"))

        await pool.close()
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        #expect(!FileManager.default.fileExists(atPath: path + "-shm"))
        #expect(try directory.fileNames() == ["lifecycle.sqlite"])

        let db = try Database(path: path, configuration: DatabaseConfiguration(readOnly: true))
        #expect(try db.fetchInt64(sql: "SELECT count(*) FROM entry") == 10)
    }

    /// Writes racing `close()` either commit or report the closed pool; none is lost
    /// after its caller heard of success, none committed after its caller heard of failure.
    @Test func writesRacingCloseEitherCommitOrReportClosed() async throws {
        let pool = try await openPool()
        let outcomes = await withTaskGroup(of: (Int64, Result<Void, any Error>).self) { group in
            for id in Int64(1)...40 {
                group.addTask {
                    let result = await outcome {
                        try await pool.write { db in try db.execute(sql: "INSERT INTO entry(id) VALUES (?)", [.integer(id)]) }
                    }
                    return (id, result)
                }
            }
            group.addTask {
                await pool.close()
                return (0, .success(()))
            }
            var outcomes: [Int64: Result<Void, any Error>] = [:]
            for await (id, result) in group where id > 0 {
                outcomes[id] = result
            }
            return outcomes
        }

        var committed: [Int64] = []
        for (id, result) in outcomes.sorted(by: { $0.key < $1.key }) {
            switch result {
            case .success:
                committed.append(id)
            case .failure(let error):
                #expect(error is DatabaseClosedError, "write \(id) failed with \(error)")
            }
        }
        let db = try Database(path: path)
        #expect(try db.fetchAll(sql: "SELECT id FROM entry ORDER BY id") { $0.int64(0) } == committed)
    }

    /// A connection that `readInline` holds while the pool closes is closed when that
    /// read ends, not put back: no read runs inline afterwards, and the process holds no
    /// descriptor of the file any more.
    @Test func anInlineReadDuringCloseClosesItsConnectionWhenItEnds() async throws {
        let pool = try await openPool()
        try await pool.write { db in try db.execute(sql: "INSERT INTO entry(id) VALUES (1)") }
        let started = LockedValue(false)
        let release = DispatchSemaphore(value: 0)
        let reading = BackgroundThread {
            try pool.readInline { db in
                started.update { $0 = true }
                release.wait()
                return try db.fetchInt64(sql: "SELECT count(*) FROM entry")
            }
        }
        try await waitUntil { started.value }
        await pool.close()
        release.signal()

        let read = try #require(reading.join())
        #expect(try read.get() == 1)
        #expect(try pool.readInline { _ in 1 } == nil)
        #expect(openDescriptors(below: directory.url.path(percentEncoded: false)) == [])
    }

    /// The files below `prefix` this process holds a descriptor of (Linux; empty elsewhere).
    private func openDescriptors(below prefix: String) -> [String] {
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return descriptors.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)") }
            .filter { $0.hasPrefix(prefix) }
    }

    @Test func openingATextFileFails() async throws {
        try Data("hello\nworld\n".utf8).write(to: URL(filePath: path))
        let error = try await #require(throws: SQLiteError.self) {
            try await DatabasePool.open(path: path)
        }
        #expect(error.code.primary == .notADatabase)
        #expect(try Data(contentsOf: URL(filePath: path)) == Data("hello\nworld\n".utf8))
    }

    @Test func failingPrepareFailsTheOpen() async throws {
        struct PrepareFailed: Error, Equatable {}
        await #expect(throws: PrepareFailed()) {
            try await DatabasePool.open(path: path) { _ in throw PrepareFailed() }
        }
    }

    @Test func readsSeeOneSnapshot() async throws {
        let pool = try await openPool()
        try await pool.write { db in try db.execute(sql: "INSERT INTO entry(id) VALUES (1), (2)") }
        let counts = try await pool.read { db in
            let before = try db.fetchInt64(sql: "SELECT count(*) FROM entry")
            let writer = try Database(path: db.path)
            try writer.execute(sql: "INSERT INTO entry(id) VALUES (3)")
            let after = try db.fetchInt64(sql: "SELECT count(*) FROM entry")
            return [before, after]
        }
        #expect(counts == [2, 2])
        #expect(try await pool.read { db in try db.fetchInt64(sql: "SELECT count(*) FROM entry") } == 3)
        await pool.close()
    }
}
