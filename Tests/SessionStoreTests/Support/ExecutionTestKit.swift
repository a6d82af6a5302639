import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

/// Helpers shared by the `Execution*Tests` suites: the expected status machine, moving an
/// execution along it, and readers of its row and events.
enum ExecutionTestKit {
    /// The status machine as the design states it, written out by hand so that any change
    /// to ``ExecutionStatus/allowedNext`` is caught:
    /// pending → started → analyzed → readyForExecution → finished | failed | canceled |
    /// timedOut → closed, plus Spark's shortcuts (finish from started or analyzed,
    /// analyzed again, fail / cancel / time out from any running status).
    static let expectedAllowedNext: [ExecutionStatus: Set<ExecutionStatus>] = [
        .pending: [.started, .failed, .canceled, .timedOut],
        .started: [.analyzed, .finished, .failed, .canceled, .timedOut],
        .analyzed: [.analyzed, .readyForExecution, .finished, .failed, .canceled, .timedOut],
        .readyForExecution: [.finished, .failed, .canceled, .timedOut],
        .finished: [.closed],
        .failed: [.closed],
        .canceled: [.closed],
        .timedOut: [.closed],
        .closed: [],
    ]

    /// A fresh operation id (lower-case UUID, as the store returns them).
    static func operationId() -> String {
        UUID().uuidString.lowercased()
    }

    /// The statuses to move a fresh (`pending`) execution through to reach `target`, found
    /// breadth-first over ``ExecutionStatus/allowedNext`` (neighbours in `allCases` order,
    /// so the path is deterministic). `[]` for `pending`; `nil` when unreachable.
    static func path(to target: ExecutionStatus) -> [ExecutionStatus]? {
        var previous: [ExecutionStatus: ExecutionStatus] = [:]
        var queue: [ExecutionStatus] = [.pending]
        var seen: Set<ExecutionStatus> = [.pending]
        while !queue.isEmpty {
            let current = queue.removeFirst()
            if current == target {
                var path: [ExecutionStatus] = []
                var step = current
                while step != .pending, let before = previous[step] {
                    path.insert(step, at: 0)
                    step = before
                }
                return path
            }
            for next in ExecutionStatus.allCases where current.allowedNext.contains(next) && !seen.contains(next) {
                seen.insert(next)
                previous[next] = current
                queue.append(next)
            }
        }
        return nil
    }

    /// Moves the execution along `path(to: status)`; `failed` steps carry an error.
    static func bring(
        _ store: SessionStore, session key: String, operationId: String, to status: ExecutionStatus,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let steps = try #require(path(to: status), "no path to \(status)", sourceLocation: sourceLocation)
        for step in steps {
            try await store.setExecutionStatus(
                key: key, operationId: operationId, to: step, error: step == .failed ? "failed on the way" : nil)
        }
    }

    /// The columns of an `executions` row that a status change may touch.
    struct RowState: Equatable, CustomStringConvertible {
        var status: String
        var attached: Int64
        var startedAt: Int64?
        var lastAttachedAt: Int64
        var endedAt: Int64?
        var closedAt: Int64?
        var abandonedAt: Int64?
        var error: String?

        var description: String {
            "status \(status), attached \(attached), started \(startedAt.map(String.init) ?? "-"), "
                + "lastAttached \(lastAttachedAt), ended \(endedAt.map(String.init) ?? "-"), "
                + "closed \(closedAt.map(String.init) ?? "-"), abandoned \(abandonedAt.map(String.init) ?? "-"), "
                + "error \(error ?? "-")"
        }
    }

    /// The row of operation `operationId` as another connection sees it.
    static func row(_ test: TestStore, _ operationId: String) throws -> RowState? {
        try test.inspect { db in
            try db.fetchOne(
                sql: """
                    SELECT status, attached, started_at, last_attached_at, ended_at, closed_at, abandoned_at, error
                    FROM executions WHERE operation_id = ?
                    """, [.text(operationId)]
            ) {
                RowState(
                    status: $0.string(0), attached: $0.int64(1), startedAt: $0.optionalInt64(2), lastAttachedAt: $0.int64(3),
                    endedAt: $0.optionalInt64(4), closedAt: $0.optionalInt64(5), abandonedAt: $0.optionalInt64(6),
                    error: $0.optionalString(7))
            }
        }
    }

    /// Rows of `events`, optionally of one kind and one operation.
    static func events(_ test: TestStore, kind: EventKind? = nil, operationId: String? = nil) throws -> Int64 {
        var sql = "SELECT count(*) FROM events WHERE 1 = 1"
        var arguments: [DatabaseValue] = []
        if let kind {
            sql += " AND kind = ?"
            arguments.append(.text(kind.rawValue))
        }
        if let operationId {
            sql += " AND operation_id = ?"
            arguments.append(.text(operationId))
        }
        return try test.count(sql, arguments)
    }

    /// The session's state column.
    static func sessionState(_ test: TestStore, _ key: String) throws -> String? {
        try test.inspect { db in
            try db.fetchOne(sql: "SELECT state FROM sessions WHERE key = ?", [.text(key)]) { $0.string(0) }
        }
    }
}
