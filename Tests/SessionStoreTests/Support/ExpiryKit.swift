import Foundation
import SessionStore
import SessionStoreSQLite
import Synchronization
import Testing

/// Helpers shared by the `Expiry*Tests` files.
enum ExpiryKit {
    /// The expiry columns of one `sessions` row, as a separate connection sees them.
    struct Timing: Equatable, CustomStringConvertible {
        var state: String
        var expireAt: Int64?
        var lastAccessAt: Int64
        var endedAt: Int64?

        var description: String {
            "state=\(state) expire_at=\(expireAt.map(String.init) ?? "NULL") last_access_at=\(lastAccessAt) ended_at=\(endedAt.map(String.init) ?? "NULL")"
        }
    }

    static func timing(_ test: TestStore, key: String) throws -> Timing? {
        try test.inspect { db in
            try db.fetchOne(
                sql: "SELECT state, expire_at, last_access_at, ended_at FROM sessions WHERE key = ?", [.text(key)]
            ) { Timing(state: $0.string(0), expireAt: $0.optionalInt64(1), lastAccessAt: $0.int64(2), endedAt: $0.optionalInt64(3)) }
        }
    }

    /// The `state` field of every `session.ended` event of `key`, read with `json_extract`.
    static func endedEventStates(_ test: TestStore, key: String) throws -> [String] {
        try test.inspect { db in
            try db.fetchAll(
                sql: """
                    SELECT json_extract(payload, '$.state') FROM events
                    WHERE kind = 'session.ended' AND session_key = ?
                    ORDER BY seq
                    """, [.text(key)]) { $0.string(0) }
        }
    }

    /// Writes a re-arm to `store_state` as recovery does after the last serving process
    /// went away: from `epoch`, rounded to `tick`, for sessions due after `since`.
    static func rearm(_ test: TestStore, epoch: Int64, tick: Int64, since: Int64? = nil) throws {
        let db = try Database(path: test.path)
        var values: [(String, Int64)] = [("rearm_epoch", epoch), ("rearm_tick", tick)]
        if let since { values.append(("rearm_since", since)) }
        for (name, value) in values {
            try db.execute(
                sql: "INSERT INTO store_state (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                [.text(name), .integer(value)])
        }
    }

    static func executionStatus(_ test: TestStore, operationId: String) throws -> String? {
        try test.inspect { db in
            try db.fetchOne(sql: "SELECT status FROM executions WHERE operation_id = ?", [.text(operationId)]) { $0.string(0) }
        }
    }

    /// A thread-safe counter for `@Sendable` callbacks.
    final class Counter: Sendable {
        private let count = Mutex(0)
        func increment() { count.withLock { $0 += 1 } }
        var value: Int { count.withLock { $0 } }
    }
}
