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
        return try loggedEvents(where: conditions).map(\.payload)
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
    /// the row count of every table and every row, every column, of the tables a
    /// session's calls write (sessions, their details, config and links, executions,
    /// queries, resources, live counts, event totals and the shared store state).
    struct StoredSnapshot: Equatable, CustomStringConvertible {
        var counts: [String: Int64]
        var rows: [String: [String]]

        var description: String { "counts \(counts.sorted { $0.key < $1.key }), rows \(rows.sorted { $0.key < $1.key })" }
    }

    /// The tables whose rows a ``StoredSnapshot`` holds.
    static let snapshotTables = [
        "sessions", "session_details", "session_config", "session_links", "executions", "streaming_queries",
        "session_resources", "live_session_counts", "event_totals", "store_state",
    ]

    func snapshot() throws -> StoredSnapshot {
        var rows: [String: [String]] = [:]
        for table in Self.snapshotTables {
            rows[table] = try tableRows(table)
        }
        return StoredSnapshot(counts: try inspector.tableCounts(), rows: rows)
    }
}
