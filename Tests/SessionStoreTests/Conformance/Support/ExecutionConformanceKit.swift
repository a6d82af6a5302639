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

    /// One row of `events`, its JSON payload decoded.
    struct LoggedEvent: CustomStringConvertible {
        var seq: Int64
        var at: Int64
        var kind: String
        var sessionKey: String?
        var operationId: String?
        /// The payload's members; numbers and booleans as their JSON text.
        var payload: [String: String]

        var description: String {
            "#\(seq) \(kind) at \(at), session \(sessionKey ?? "NULL"), operation \(operationId ?? "NULL"), payload \(payload)"
        }
    }

    struct UndecodableEventPayload: Error, CustomStringConvertible {
        let payload: StoredValue
        var description: String { "an event payload is not a JSON object: \(payload)" }
    }

    /// The events that meet `conditions`, in sequence order, each payload decoded from
    /// its stored JSON text (one that is not a JSON object throws). A member that is JSON
    /// `null` is left out, as a path that finds nothing.
    func loggedEvents(where conditions: Conditions = [:]) throws -> [LoggedEvent] {
        let rows = try inspector.rows(
            ["seq", "at", "kind", "session_key", "operation_id", "payload"], of: "events", where: conditions, orderedBy: "seq")
        return try rows.map { row in
            guard let seq = row[0].integer, let at = row[1].integer, let kind = row[2].text, let text = row[5].text,
                let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            else { throw UndecodableEventPayload(payload: row[5]) }
            var payload: [String: String] = [:]
            for (name, value) in object {
                switch value {
                case is NSNull: continue
                case let string as String: payload[name] = string
                default: payload[name] = "\(value)"
                }
            }
            return LoggedEvent(seq: seq, at: at, kind: kind, sessionKey: row[3].text, operationId: row[4].text, payload: payload)
        }
    }

    /// The columns of each table of the schema (`Migrations/`), as every backend stores
    /// them: what ``tableDump()`` reads row by row. `executions.request` holds bytes,
    /// which the inspector does not read; it is compared through the other columns.
    static let schemaColumns: [String: [String]] = [
        "sessions": [
            "id", "key", "user_id", "client_session_id", "data_source", "type", "version", "identifier",
            "utc_offset_seconds", "client_address", "impersonated_user", "state", "timeout_ms", "created_at",
            "last_access_at", "expire_at", "ended_at", "end_reason", "config_changes", "statements", "failures",
        ],
        "session_details": ["session_id", "name", "value", "updated_at"],
        "session_config": ["session_id", "name", "value", "updated_at"],
        "session_links": ["parent_id", "child_id", "created_at"],
        "live_session_counts": ["scope", "name", "live"],
        "events": ["seq", "at", "kind", "session_key", "user_id", "data_source", "operation_id", "payload"],
        "executions": [
            "id", "session_id", "operation_id", "job_tag", "status", "statement", "reattachable", "attached",
            "timeout_ms", "created_at", "started_at", "last_attached_at", "deadline_at", "ended_at", "closed_at",
            "abandoned_at", "error", "instance_id",
        ],
        "execution_tags": ["session_id", "tag", "execution_id"],
        "streaming_queries": [
            "id", "session_id", "query_id", "run_id", "name", "operation_id", "tags", "state", "registered_at",
            "stopped_at", "stop_reason",
        ],
        "session_resources": ["id", "session_id", "kind", "name", "bytes", "created_at"],
        "instances": ["id", "host", "pid", "started_at", "heartbeat_at", "serving"],
        "store_state": ["name", "value"],
        "subscriptions": ["name", "acknowledged_seq", "updated_at"],
        "event_totals": ["kind", "detail", "total"],
    ]

    /// Every row of every table of the schema, each as one line of its columns, sorted
    /// per table; a table the backend keeps beside the schema's is dumped as its row
    /// count. Two dumps are equal exactly when what the store holds is (but for the
    /// bytes of `executions.request`).
    func tableDump() throws -> [String: [String]] {
        var dump: [String: [String]] = [:]
        for (table, count) in try inspector.tableCounts() {
            guard let columns = Self.schemaColumns[table] else {
                dump[table] = ["\(count) rows"]
                continue
            }
            dump[table] = try inspector.rows(columns, of: table, where: [:], orderedBy: nil).map { row in
                row.map(\.description).joined(separator: "|")
            }.sorted()
        }
        return dump
    }
}
