import Foundation
import SessionStoreSQLite
import Testing

/// Holds the writer inside `blocker` until every one of `indexes` has queued a write
/// (`write(index, db)`) behind it, then lets it go, so the queued writes share the next
/// transaction. Returns the blocker's result and each queued write's outcome by index.
func writesQueuedBehindABlockedWriter(
    _ pool: DatabasePool, indexes: ClosedRange<Int>,
    blocker: @escaping @Sendable (Database) throws -> Int64,
    write: @escaping @Sendable (Int, Database) throws -> Int64
) async throws -> (blocker: Int64, outcomes: [Int: Result<Int64, any Error>]) {
    let release = DispatchSemaphore(value: 0)
    let blockerStarted = LockedValue(false)
    let queued = LockedValue(0)

    async let held: Int64 = pool.write { db in
        blockerStarted.update { $0 = true }
        release.wait()
        return try blocker(db)
    }
    try await waitUntil { blockerStarted.value }

    let outcomes = try await withThrowingTaskGroup(of: (Int, Result<Int64, any Error>).self) { group in
        // Lets the blocker go on every path, so a failed wait cannot hang the test.
        defer { release.signal() }
        for index in indexes {
            group.addTask {
                queued.update { $0 += 1 }
                let result = await outcome { try await pool.write { db in try write(index, db) } }
                return (index, result)
            }
        }
        try await waitUntil { queued.value == indexes.count }
        for _ in 0..<10 { await Task.yield() }
        try await Task.sleep(for: .milliseconds(200))
        release.signal()

        var outcomes: [Int: Result<Int64, any Error>] = [:]
        for try await (index, result) in group {
            outcomes[index] = result
        }
        return outcomes
    }
    return (try await held, outcomes)
}
