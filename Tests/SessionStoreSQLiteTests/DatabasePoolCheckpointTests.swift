import Foundation
import SessionStoreCore
import SessionStoreSQLite
import Testing

/// Who copies the WAL back into the database file: a thread of the pool's own with
/// `normal` durability, the writer's commits (SQLite's automatic checkpoint) with `full`.
// Three minutes: alone these take a second or so, but beside the whole suite on two cores
// the sustained writer shares the disk with every other suite's writes.
@Suite("DatabasePool: checkpoints", .timeLimit(.minutes(3)))
struct DatabasePoolCheckpointTests {
    let directory: TemporaryDirectory
    let path: String

    init() throws {
        directory = try TemporaryDirectory()
        path = directory.path("checkpoints.sqlite")
    }

    private func openPool(_ durability: Durability, walSizeLimit: Int64? = 32 * 1024 * 1024) async throws -> DatabasePool {
        let configuration = DatabaseConfiguration(durability: durability, walSizeLimit: walSizeLimit)
        return try await DatabasePool.open(path: path, configuration: configuration) { db in
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS blob (id INTEGER PRIMARY KEY, data BLOB NOT NULL) STRICT")
        }
    }

    /// Writes `count` rows of 16 KiB each (four or five WAL frames a row), `perWrite` rows
    /// per write.
    private func fill(_ pool: DatabasePool, rows count: Int, perWrite: Int = 10) async throws {
        let data = Data(repeating: 0x5A, count: 16 * 1024)
        for start in stride(from: 0, to: count, by: perWrite) {
            try await pool.write { db in
                for _ in start..<min(count, start + perWrite) {
                    try db.execute(sql: "INSERT INTO blob (data) VALUES (?)", [.blob(data)])
                }
            }
        }
    }

    private func size(_ file: String) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? NSNumber)?.int64Value ?? 0
    }

    @Test func normalDurabilityCheckpointsBesideTheWriter() async throws {
        let pool = try await openPool(.normal)
        let before = size(path)
        // About 1,400 frames: past the 1,000 that start a background checkpoint.
        try await fill(pool, rows: 300)
        try await waitUntil { pool.backgroundCheckpoints >= 1 }
        // The pages reached the database file while the pool, writer included, was open:
        // at least those of the rows in the first 1,000 frames.
        try await waitUntil { size(path) >= before + 150 * 16 * 1024 }
        let count = try await pool.read { db in try db.fetchInt64(sql: "SELECT count(*) FROM blob") }
        #expect(count == 300)
        await pool.close()
        let check = try Database(path: path).fetchOne(sql: "PRAGMA integrity_check") { $0.string(0) }
        #expect(check == "ok")
    }

    @Test func theWALStaysBoundedUnderASustainedWriter() async throws {
        let pool = try await openPool(.normal)
        // About 42,000 frames without a pause. SQLite starts the WAL over only once it
        // has been copied whole; the writer checkpoints itself from 4,000 frames on
        // (after waiting for a background checkpoint in progress), so the WAL stops
        // growing one write past that however much is written.
        var largestWAL: Int64 = 0
        for _ in 0..<30 {
            try await fill(pool, rows: 300, perWrite: 50)
            largestWAL = max(largestWAL, size(path + "-wal"))
        }
        let frameBytes: Int64 = 4096 + 24
        #expect(largestWAL > 1_000 * frameBytes)
        #expect(largestWAL <= 4_400 * frameBytes, "the WAL reached \(largestWAL / frameBytes) frames")
        let count = try await pool.read { db in try db.fetchInt64(sql: "SELECT count(*) FROM blob") }
        #expect(count == 9_000)
        await pool.close()
    }

    /// A reader holding an old snapshot keeps every frame in the WAL; once it is gone and
    /// the WAL is copied, the writer's next commit starts the WAL over and trims the file
    /// to the limit. Without a limit the file stays at its largest.
    @Test(arguments: [Int64?.some(1024 * 1024), nil])
    func aWALGrownBehindAReaderIsTrimmedOnceCopied(walSizeLimit: Int64?) async throws {
        let pool = try await openPool(.normal, walSizeLimit: walSizeLimit)
        let reader = try Database(path: path, configuration: DatabaseConfiguration(readOnly: true))
        try reader.execute(sql: "BEGIN")
        #expect(try reader.fetchInt64(sql: "SELECT count(*) FROM blob") == 0)
        // About 2,800 frames, below the 4,000 at which the writer would wait for the reader.
        try await fill(pool, rows: 600)
        let frameBytes: Int64 = 4096 + 24
        let grown = size(path + "-wal")
        #expect(grown > 2_000 * frameBytes)
        try reader.execute(sql: "COMMIT")

        // Copy the whole WAL; the pool's own checkpointer may hold the checkpoint lock
        // for a moment, so try until one pass copied every frame.
        let checkpointer = try Database(path: path)
        try await waitUntil {
            let result = try? checkpointer.fetchOne(sql: "PRAGMA wal_checkpoint(PASSIVE)") { [$0.int64(0), $0.int64(1), $0.int64(2)] }
            return result.map { $0[0] == 0 && $0[1] == $0[2] } ?? false
        }
        try await pool.write { db in try db.execute(sql: "INSERT INTO blob (data) VALUES (x'00')") }
        let after = size(path + "-wal")
        if let walSizeLimit {
            #expect(after <= walSizeLimit, "the WAL kept \(after) bytes")
        } else {
            #expect(after == grown)
        }
        #expect(try await pool.read { db in try db.fetchInt64(sql: "SELECT count(*) FROM blob") } == 601)
        await pool.close()
    }

    @Test func fullDurabilityLeavesCheckpointsToTheWritersCommits() async throws {
        let pool = try await openPool(.full)
        let before = size(path)
        try await fill(pool, rows: 300)
        // SQLite's automatic checkpoint ran in a commit that took the WAL past 1,000
        // pages: the pages are in the database file without any background checkpoint.
        #expect(size(path) >= before + 150 * 16 * 1024)
        #expect(pool.backgroundCheckpoints == 0)
        await pool.close()
    }
}
