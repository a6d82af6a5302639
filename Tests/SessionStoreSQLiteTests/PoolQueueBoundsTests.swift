import Foundation
import SessionStoreSQLite
import Testing

/// The writer's and the readers' queues hold at most their bound of waiting requests: one
/// more fails at once with ``DatabaseOverloadedError`` and runs nothing, instead of growing
/// memory; once the queue drains, requests are taken again.
// A time limit catches a hang: these take well under a second alone, but the whole suite
// runs them beside a package build and the Python client suite on two cores.
@Suite("DatabasePool: queue bounds", .timeLimit(.minutes(3)))
struct PoolQueueBoundsTests {
    let directory: TemporaryDirectory
    let path: String

    init() throws {
        directory = try TemporaryDirectory()
        path = directory.path("pool.sqlite")
    }

    private func openPool(maxPendingWrites: Int = 10_000, maxPendingReads: Int = 10_000) async throws -> DatabasePool {
        try await DatabasePool.open(
            path: path, readerCount: 1, maxPendingWrites: maxPendingWrites, maxPendingReads: maxPendingReads
        ) { db in
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS item (id INTEGER PRIMARY KEY) STRICT")
        }
    }

    private static func error<T>(_ result: Result<T, any Error>) -> (any Error)? {
        if case .failure(let error) = result { return error }
        return nil
    }

    @Test func aWritePastTheBoundFailsAtOnceAndRunsNothing() async throws {
        let bound = 5
        let pool = try await openPool(maxPendingWrites: bound)
        let release = DispatchSemaphore(value: 0)
        let started = LockedValue(false)
        async let held: Int64 = pool.write { db in
            started.update { $0 = true }
            release.wait()
            try db.execute(sql: "INSERT INTO item (id) VALUES (0)")
            return 0
        }
        try await waitUntil { started.value }

        let results = try await withThrowingTaskGroup(of: Result<Int64, any Error>.self) { group in
            defer { release.signal() }
            for index in 1...bound {
                group.addTask {
                    await outcome {
                        try await pool.write { db in
                            try db.execute(sql: "INSERT INTO item (id) VALUES (?)", [.integer(Int64(index))])
                            return Int64(index)
                        }
                    }
                }
            }
            try await waitUntil { pool.pendingWrites == bound }
            // The queue is full: one more is refused before it could run.
            let refused = await outcome {
                try await pool.write { db in
                    try db.execute(sql: "INSERT INTO item (id) VALUES (99)")
                    return Int64(99)
                }
            }
            let error = try #require(Self.error(refused) as? DatabaseOverloadedError)
            #expect(error.queue == .writes && error.bound == bound)
            #expect(pool.pendingWrites == bound)
            release.signal()
            var results: [Result<Int64, any Error>] = []
            for try await result in group { results.append(result) }
            return results
        }
        #expect(try await held == 0)
        #expect(results.allSatisfy { Self.error($0) == nil })
        // Drained: writes are taken again.
        try await pool.write { db in try db.execute(sql: "INSERT INTO item (id) VALUES (100)") }
        let ids = try await pool.read { db in try db.fetchAll(sql: "SELECT id FROM item ORDER BY id") { $0.int64(0) } }
        #expect(ids == [0, 1, 2, 3, 4, 5, 100])
        await pool.close()
    }

    @Test func aReadPastTheBoundFailsAtOnce() async throws {
        let bound = 3
        let pool = try await openPool(maxPendingReads: bound)
        let release = DispatchSemaphore(value: 0)
        let started = LockedValue(false)
        async let held: Int64 = pool.read { db in
            started.update { $0 = true }
            release.wait()
            return try db.fetchInt64(sql: "SELECT count(*) FROM item") ?? -1
        }
        try await waitUntil { started.value }

        let counts = try await withThrowingTaskGroup(of: Int64?.self) { group in
            defer { release.signal() }
            for _ in 1...bound {
                group.addTask { try await pool.read { db in try db.fetchInt64(sql: "SELECT count(*) FROM item") } }
            }
            try await waitUntil { pool.pendingReads == bound }
            let refused = await outcome { try await pool.read { db in try db.fetchInt64(sql: "SELECT 1") } }
            let error = try #require(Self.error(refused) as? DatabaseOverloadedError)
            #expect(error.queue == .reads && error.bound == bound)
            release.signal()
            var counts: [Int64?] = []
            for try await count in group { counts.append(count) }
            return counts
        }
        #expect(try await held == 0)
        #expect(counts == [0, 0, 0])
        #expect(try await pool.read { db in try db.fetchInt64(sql: "SELECT 1") } == 1)
        await pool.close()
    }
}
