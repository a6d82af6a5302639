import Foundation
import SessionStore

/// What the execution, hierarchy and scoped-access suites of the conformance folder read
/// about a store beyond ``StoreFixture``'s own readers: an execution's row, events with
/// their decoded payloads, a session's state column and a dump of every table. Built
/// only on the inspector's primitives.
extension StoreFixture {
    /// The `executions` row of operation `operationId` as the inspector reads it (the
    /// first, should two sessions use the id).
    func executionRow(_ operationId: String) throws -> ExecutionTestKit.RowState? {
        let columns = ["status", "attached", "started_at", "last_attached_at", "ended_at", "closed_at", "abandoned_at", "error"]
        guard let row = try inspector.rows(columns, of: "executions", where: ["operation_id": .text(operationId)], orderedBy: "id").first,
            let status = row[0].text, let attached = row[1].integer, let lastAttachedAt = row[3].integer
        else { return nil }
        return ExecutionTestKit.RowState(
            status: status, attached: attached, startedAt: row[2].integer, lastAttachedAt: lastAttachedAt,
            endedAt: row[4].integer, closedAt: row[5].integer, abandonedAt: row[6].integer, error: row[7].text)
    }

    /// Rows of `events`, of one kind and one operation when given.
    func loggedEventCount(kind: EventKind? = nil, operationId: String? = nil) throws -> Int64 {
        var conditions: Conditions = [:]
        if let kind { conditions["kind"] = .text(kind.rawValue) }
        if let operationId { conditions["operation_id"] = .text(operationId) }
        return try inspector.count("events", where: conditions)
    }

    /// The `state` column of the session `key`.
    func sessionStateColumn(key: String) throws -> String? {
        try inspector.text("state", of: "sessions", where: ["key": .text(key)])
    }

    /// The highest event sequence number; 0 when there is no event.
    func lastEventSeq() throws -> Int64 {
        try inspector.values("seq", of: "events").compactMap(\.integer).max() ?? 0
    }

}
