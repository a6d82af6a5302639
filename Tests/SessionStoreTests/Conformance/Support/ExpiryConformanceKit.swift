import Foundation
import SessionStore
import Testing

/// What the expiry, recovery and notification conformance suites read and arrange
/// through the inspector: a session's expiry columns and end events, event payloads,
/// executions, the instances a crashed process leaves behind, and what a call that
/// writes nothing must leave as it was.
extension StoreFixture {
    /// The expiry columns of one `sessions` row, as stored.
    struct SessionTiming: Equatable, CustomStringConvertible {
        var state: String
        var expireAt: Int64?
        var lastAccessAt: Int64
        var endedAt: Int64?

        var description: String {
            "state=\(state) expire_at=\(expireAt.map(String.init) ?? "NULL") last_access_at=\(lastAccessAt) ended_at=\(endedAt.map(String.init) ?? "NULL")"
        }
    }

    /// The stored `state`, `expire_at`, `last_access_at` and `ended_at` of the session `key`.
    func sessionTiming(key: String) throws -> SessionTiming? {
        guard
            let row = try inspector.rows(
                ["state", "expire_at", "last_access_at", "ended_at"], of: "sessions", where: ["key": .text(key)], orderedBy: nil
            ).first,
            let state = row[0].text, let lastAccessAt = row[2].integer
        else { return nil }
        return SessionTiming(state: state, expireAt: row[1].integer, lastAccessAt: lastAccessAt, endedAt: row[3].integer)
    }

    /// The stored payloads of the events of `kind` that meet `conditions`, in sequence
    /// order, decoded from their JSON text (an object of string values); a payload that is
    /// not such an object fails the call.
    func payloads(kind: EventKind, where conditions: Conditions = [:]) throws -> [[String: String]] {
        var conditions = conditions
        conditions["kind"] = .text(kind.rawValue)
        return try inspector.values("payload", of: "events", where: conditions, orderedBy: "seq").map { value in
            let text = try #require(value.text, "a payload of \(kind) is \(value)")
            return try JSONDecoder().decode([String: String].self, from: Data(text.utf8))
        }
    }

    /// The `state` field of every stored `session.ended` event of `key`, in order.
    func endedEventStates(key: String) throws -> [String] {
        try payloads(kind: EventKind.sessionEnded, where: ["session_key": .text(key)]).map { $0["state"] ?? "(none)" }
    }

    /// The stored `status` of the execution `operationId`.
    func executionStatus(operationId: String) throws -> String? {
        try inspector.text("status", of: "executions", where: ["operation_id": .text(operationId)])
    }

    /// The stored `ended_at` and `error` of the execution `operationId`; `nil` when there
    /// is no such row.
    func executionEnd(operationId: String) throws -> (endedAt: Int64?, error: String?)? {
        try inspector.rows(["ended_at", "error"], of: "executions", where: ["operation_id": .text(operationId)], orderedBy: nil)
            .first.map { (endedAt: $0[0].integer, error: $0[1].text) }
    }

    /// The `value` of the `store_state` row `name`.
    func storeState(_ name: String) throws -> Int64? {
        try inspector.integer("value", of: "store_state", where: ["name": .text(name)])
    }

    /// The names of the `store_state` rows, sorted.
    func storeStateNames() throws -> [String] {
        try inspector.values("name", of: "store_state").compactMap(\.text).sorted()
    }

    /// Above Linux's and macOS's largest pid: `kill(pid, 0)` answers ESRCH.
    static let impossiblePid: Int64 = 2_147_483_646

    /// Writes an `instances` row of this host for `pid`, heartbeat `heartbeatAt` (now by
    /// default); returns its id.
    @discardableResult
    func leaveInstance(
        host: String = ProcessInfo.processInfo.hostName, pid: Int64, startedAt: Int64? = nil, heartbeatAt: Int64? = nil,
        serving: Bool
    ) throws -> Int64 {
        let now = clock.now()
        return try inspector.insert(
            "instances",
            [
                "host": .text(host), "pid": .integer(pid), "started_at": .integer(startedAt ?? now),
                "heartbeat_at": .integer(heartbeatAt ?? now), "serving": .integer(serving ? 1 : 0),
            ])
    }

    /// Writes the `instances` row a process of this host leaves behind when it dies with
    /// the store open (a pid no process has, heartbeat now); returns the row's id. A
    /// `serving` one ran the sweeper, so its death re-arms the sessions due after its
    /// heartbeat.
    @discardableResult
    func leaveDeadInstance(serving: Bool = true) throws -> Int64 {
        try leaveInstance(pid: Self.impossiblePid, serving: serving)
    }

    /// What the store holds, as far as a call that must write nothing could change it:
    /// the row count of every table and every column of the rows a session's calls write
    /// (sessions, their details, config and links, executions, queries, resources, live
    /// counts, event totals and the shared store state).
    struct StoredSnapshot: Equatable, CustomStringConvertible {
        var counts: [String: Int64]
        var rows: [String: [[StoredValue]]]

        var description: String { "counts \(counts.sorted { $0.key < $1.key }), rows \(rows.sorted { $0.key < $1.key })" }
    }

    /// The tables and columns a ``StoredSnapshot`` holds, each with the column it is
    /// ordered by.
    static let snapshotColumns: [(table: String, orderedBy: String, columns: [String])] = [
        (
            "sessions", "id",
            [
                "id", "key", "user_id", "client_session_id", "data_source", "type", "version", "identifier",
                "utc_offset_seconds", "client_address", "impersonated_user", "state", "timeout_ms", "created_at",
                "last_access_at", "expire_at", "ended_at", "end_reason", "config_changes", "statements", "failures",
            ]
        ),
        ("session_details", "name", ["session_id", "name", "value", "updated_at"]),
        ("session_config", "name", ["session_id", "name", "value", "updated_at"]),
        ("session_links", "child_id", ["parent_id", "child_id", "created_at"]),
        (
            "executions", "id",
            [
                "id", "session_id", "operation_id", "job_tag", "status", "statement", "reattachable", "attached",
                "timeout_ms", "created_at", "started_at", "last_attached_at", "deadline_at", "ended_at", "closed_at",
                "abandoned_at", "error", "instance_id",
            ]
        ),
        (
            "streaming_queries", "id",
            [
                "id", "session_id", "query_id", "run_id", "name", "operation_id", "tags", "state", "registered_at",
                "stopped_at", "stop_reason",
            ]
        ),
        ("session_resources", "id", ["id", "session_id", "kind", "name", "bytes", "created_at"]),
        ("live_session_counts", "name", ["scope", "name", "live"]),
        ("event_totals", "kind", ["kind", "detail", "total"]),
        ("store_state", "name", ["name", "value"]),
    ]

    func snapshot() throws -> StoredSnapshot {
        var rows: [String: [[StoredValue]]] = [:]
        for (table, orderedBy, columns) in Self.snapshotColumns {
            // Sorted whole, so that rows tied on the ordering column compare equal.
            rows[table] = try inspector.rows(columns, of: table, where: [:], orderedBy: orderedBy)
                .sorted { $0.description < $1.description }
        }
        return StoredSnapshot(counts: try inspector.tableCounts(), rows: rows)
    }
}
