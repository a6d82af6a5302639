import Foundation
import SessionStoreSQLite
import Testing

/// A change detector answers true once after each commit of another connection — the
/// pool's writer or a connection of its own, as another process would have — and false
/// while nothing was committed.
// A time limit catches a hang: these take well under a second alone, but the whole suite
// runs them beside a package build and the Python client suite on two cores.
@Suite("ChangeDetector", .timeLimit(.minutes(3)))
struct ChangeDetectorTests {
    let directory: TemporaryDirectory
    let path: String

    init() throws {
        directory = try TemporaryDirectory()
        path = directory.path("changes.sqlite")
    }

    @Test func seesEachCommitOfAnotherConnectionOnce() async throws {
        let pool = try await DatabasePool.open(path: path) { db in
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS entry(id INTEGER PRIMARY KEY) STRICT")
        }
        let detector = try await pool.makeChangeDetector()
        #expect(detector.hasChanged(), "the first check has nothing to compare with")
        #expect(!detector.hasChanged())

        try await pool.write { db in try db.execute(sql: "INSERT INTO entry(id) VALUES (1)") }
        #expect(detector.hasChanged())
        #expect(!detector.hasChanged())

        // A read changes nothing.
        _ = try await pool.read { db in try db.fetchInt64(sql: "SELECT count(*) FROM entry") }
        #expect(!detector.hasChanged())

        // Another connection, as another process would write.
        let other = try Database(path: path)
        try other.execute(sql: "INSERT INTO entry(id) VALUES (2)")
        #expect(detector.hasChanged())
        #expect(!detector.hasChanged())
        await pool.close()
    }
}
