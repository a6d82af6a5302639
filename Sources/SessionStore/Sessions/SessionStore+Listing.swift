import SessionStoreSQLite

/// Per-session figures, kept in the transactions of the changes they count.
///
/// Encodes the duration as `durationMs`, in whole milliseconds.
public struct SessionStatistics: Sendable, Hashable, Encodable {
    /// The session's key.
    public var key: String
    /// From creation to the end, or to now for a live session.
    public var duration: Duration
    /// Config values changed since the session opened (including those set at open).
    public var configChanges: Int64
    /// Executions created in the session.
    public var statements: Int64
    /// Executions that failed.
    public var failures: Int64

    private enum CodingKeys: String, CodingKey {
        case key, configChanges, statements, failures
        case duration = "durationMs"
    }

    /// Writes every field, the duration in whole milliseconds.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key, forKey: .key)
        try container.encode(duration.wholeMilliseconds, forKey: .duration)
        try container.encode(configChanges, forKey: .configChanges)
        try container.encode(statements, forKey: .statements)
        try container.encode(failures, forKey: .failures)
    }
}

extension SessionStore {
    /// Sessions matching `filter`, oldest first, with their details, config and links.
    ///
    /// - Throws: `INVALID_ARGUMENT.LIMIT` for a limit outside 1...10,000.
    public func listSessions(_ filter: SessionFilter = SessionFilter()) async throws -> [Session] {
        guard (1...10_000).contains(filter.limit) else {
            throw SessionStoreError.invalidArgument(.invalidLimit, "limit must be within 1...10000 (got \(filter.limit))")
        }
        let after = try filter.after.map { (key) throws in try configuration.validator.key(key) }
        return try await read { db in
            var afterRowId: Int64 = 0
            if let after {
                guard let row = try SessionRecords.find(db, key: after) else {
                    throw SessionStoreError.sessionNotFound(after)
                }
                afterRowId = row.id
            }
            return try SessionListRecords.list(db, filter, afterRowId: afterRowId).map { try SessionRecords.load(db, $0) }
        }
    }

    /// The live sessions of a data source (Stream API `GetCurrentSessions`), oldest
    /// first. Ended sessions are never included.
    public func listCurrentSessions(dataSource: String, limit: Int = 10_000) async throws -> [Session] {
        try configuration.validator.id(dataSource, field: .invalidDataSource)
        return try await listSessions(SessionFilter(states: .live, dataSource: dataSource, limit: limit))
    }

    /// Events after sequence number `after`, oldest first.
    ///
    /// ```swift
    /// var last: Int64 = 0
    /// for event in try await store.listEvents(after: last, limit: 100) {
    ///     print(event.seq, event.kind, event.sessionKey ?? "-")
    ///     last = event.seq
    /// }
    /// ```
    public func listEvents(after seq: Int64 = 0, limit: Int = 100, filter: EventFilter = EventFilter()) async throws -> [StoreEvent] {
        guard (1...10_000).contains(limit) else {
            throw SessionStoreError.invalidArgument(.invalidLimit, "limit must be within 1...10000 (got \(limit))")
        }
        let sessionKey = try filter.sessionKey.map { (key) throws in try configuration.validator.key(key) }
        let filter = EventFilter(sessionKey: sessionKey, kind: filter.kind)
        return try await read { db in try EventLog.read(db, after: seq, limit: limit, filter: filter) }
    }

    /// Duration and counters of one session.
    public func sessionStatistics(key: String) async throws -> SessionStatistics {
        let key = try configuration.validator.key(key)
        let now = clock.now()
        return try await read { db in
            guard let row = try SessionRecords.find(db, key: key) else {
                throw SessionStoreError.sessionNotFound(key)
            }
            return SessionStatistics(
                key: key, duration: .milliseconds((row.endedAt ?? now) - row.createdAt), configChanges: row.configChanges,
                statements: row.statements, failures: row.failures)
        }
    }
}
