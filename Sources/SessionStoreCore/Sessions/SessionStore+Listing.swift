
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

/// Lists of every user's sessions and events: unchecked calls for trusted code in the
/// process. A caller that is not trusted is served through ``SessionStore/acting(as:)``,
/// whose ``ScopedSessionStore`` makes the same calls for one principal.
extension SessionStore {
    /// Sessions matching `filter`, oldest first, with their details, config and links. A
    /// session whose expiry has passed is listed as expired (ended at its expiry), whether
    /// or not a sweeper has ended it yet: never among the live ones.
    ///
    /// - Throws: `INVALID_ARGUMENT.LIMIT` for a limit outside 1...10,000.
    public func listSessions(_ filter: SessionFilter = SessionFilter()) async throws -> [Session] {
        try await listSessions(filter, scope: nil)
    }

    /// ``listSessions(_:)`` in `scope`: only the sessions of the filter's user, the
    /// principal's own when the filter names none.
    ///
    /// - Throws: `PERMISSION_DENIED.IMPERSONATION` for a user the principal may not act as.
    func listSessions(_ filter: SessionFilter, scope: AccessScope?) async throws -> [Session] {
        try await listSessions(filter, scope: scope, counting: false).sessions
    }

    /// ``listSessions(_:)``, and how many sessions match the filter in all (its limit and
    /// `after` aside), read in the same transaction: what a page left out.
    package func listSessionsCounting(_ filter: SessionFilter) async throws -> (sessions: [Session], total: Int) {
        try await listSessions(filter, scope: nil, counting: true)
    }

    private func listSessions(_ filter: SessionFilter, scope: AccessScope?, counting: Bool) async throws -> (sessions: [Session], total: Int) {
        let configuration = self.configuration
        try configuration.validator.listLimit(filter.limit)
        var normalized = filter
        // A scope validates the user it is given (and names its principal for none).
        if let scope {
            normalized.userId = try scope.user(filter.userId, validator: configuration.validator)
        } else {
            normalized.userId = try configuration.validator.optionalId(filter.userId, field: .invalidUserId)
        }
        normalized.dataSource = try configuration.validator.optionalId(filter.dataSource, field: .invalidDataSource)
        let filter = normalized
        let after = try filter.after.map { (key) throws in try configuration.validator.key(key) }
        return try await read { db in
            let instant = configuration.expiryInstant(db.now)
            var position: SessionListPosition?
            if let after {
                let row = try Access.row(db, key: after, scope: scope)
                position = SessionListPosition(row: row, storedExpireAt: try db.listing.storedExpiry(rowId: row.id))
            }
            let sessions = try Self.listedRows(db, filter, after: position, at: instant).map {
                try db.sessions.load($0, scope: scope)
            }
            return (sessions, counting ? try Self.listedCount(db, filter, at: instant) : sessions.count)
        }
    }

    /// Sessions matching the filter at `instant`, in its order, each as readers see it
    /// (``SessionRow/seen(at:)``): an overdue session is listed as expired, so it is left
    /// out of live lists and included in lists of ended or expired sessions. A page that
    /// lost rows to that decision is filled from the rows after it.
    static func listedRows(
        _ db: any StorageTransaction, _ filter: SessionFilter, after: SessionListPosition?, at instant: ExpiryInstant
    ) throws -> [SessionRow] {
        var listed: [SessionRow] = []
        var position = after
        while listed.count < filter.limit {
            let wanted = filter.limit - listed.count
            let page = try db.listing.page(filter, after: position, now: instant.now, limit: wanted)
            listed += page.lazy.map { $0.row.seen(at: instant) }.filter { filter.states.includes($0.state) }
            guard page.count == wanted, let last = page.last else { break }
            position = last
        }
        return listed
    }

    /// How many sessions match `filter` at `instant` (its limit, position and order
    /// aside), as ``listedRows(_:_:after:at:)`` would list them: exact, the rows the
    /// backend could not decide by their stored expiry decided here.
    static func listedCount(_ db: any StorageTransaction, _ filter: SessionFilter, at instant: ExpiryInstant) throws -> Int {
        let count = try db.listing.count(filter, now: instant.now)
        return count.counted + count.undecided.lazy.filter { filter.states.includes($0.seen(at: instant).state) }.count
    }

    /// The live sessions of a data source, or of every data source when `dataSource` is
    /// `nil` (Stream API `GetCurrentSessions`), oldest first. Ended sessions, and those
    /// whose expiry has passed, are never listed themselves, but a listed session's
    /// ``Session/parents`` and ``Session/children`` may name ended ones: links outlive the
    /// sessions they join, until the tombstone is pruned
    /// (``SessionStoreConfiguration/tombstoneRetention``).
    public func listCurrentSessions(dataSource: String? = nil, limit: Int = 10_000) async throws -> [Session] {
        let dataSource = try configuration.validator.optionalId(dataSource, field: .invalidDataSource)
        return try await listSessions(SessionFilter(states: .live, dataSource: dataSource, limit: limit))
    }

    /// Up to `limit` events with a sequence number above `seq`, oldest first.
    ///
    /// To read more than one page, pass the `seq` of the last event returned as `after`
    /// until a page comes back shorter than `limit`:
    ///
    /// ```swift
    /// var last: Int64 = 0
    /// while true {
    ///     let page = try await store.listEvents(after: last, limit: 1_000)
    ///     for event in page { print(event.seq, event.kind, event.sessionKey ?? "-") }
    ///     guard let next = page.last?.seq, page.count == 1_000 else { break }
    ///     last = next
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - seq: the sequence number to read after; 0 reads from the oldest retained event.
    ///   - limit: the most events returned, within 1...10,000.
    ///   - filter: only the events of one session, of one kind, or both.
    /// - Throws: `INVALID_ARGUMENT.LIMIT` for a limit outside 1...10,000.
    public func listEvents(after seq: Int64 = 0, limit: Int = 100, filter: EventFilter = EventFilter()) async throws -> [StoreEvent] {
        try await listEvents(after: seq, limit: limit, filter: filter, userId: nil)
    }

    /// ``listEvents(after:limit:filter:)``, only the events of `userId` when it is given
    /// (selected in SQL through `events_by_user`).
    func listEvents(after seq: Int64, limit: Int, filter: EventFilter, userId: String?) async throws -> [StoreEvent] {
        try configuration.validator.listLimit(limit)
        let sessionKey = try filter.sessionKey.map { (key) throws in try configuration.validator.key(key) }
        let filter = EventFilter(sessionKey: sessionKey, kind: filter.kind)
        return try await read { db in try db.events.read(after: seq, limit: limit, filter: filter, userId: userId, newestFirst: false) }
    }

    /// The newest `limit` events after `seq` matching `filter`, oldest first: the tail of
    /// the log.
    ///
    /// - Throws: `INVALID_ARGUMENT.LIMIT` for a limit outside 1...10,000.
    package func listLastEvents(after seq: Int64 = 0, limit: Int, filter: EventFilter = EventFilter()) async throws -> [StoreEvent] {
        try configuration.validator.listLimit(limit)
        let filter = try validated(filter)
        return try await read { db in
            try db.events.read(after: seq, limit: limit, filter: filter, userId: nil, newestFirst: true).reversed()
        }
    }

    /// How many events after `seq` and before `before` match `filter`: what a page of
    /// ``listEvents(after:limit:filter:)`` or ``listLastEvents(after:limit:filter:)`` left out.
    package func countEvents(after seq: Int64, before: Int64 = Int64.max, filter: EventFilter = EventFilter()) async throws -> Int {
        let filter = try validated(filter)
        return try await read { db in try db.events.count(after: seq, before: before, filter: filter) }
    }

    /// `filter` with its session key checked and normalized.
    private func validated(_ filter: EventFilter) throws -> EventFilter {
        EventFilter(sessionKey: try filter.sessionKey.map { (key) throws in try configuration.validator.key(key) }, kind: filter.kind)
    }

    /// Duration and counters of one session. A session whose expiry has passed counts as
    /// ended at its expiry.
    public func sessionStatistics(key: String) async throws -> SessionStatistics {
        try await sessionStatistics(key: key, scope: nil)
    }

    func sessionStatistics(key: String, scope: AccessScope?) async throws -> SessionStatistics {
        let key = try configuration.validator.key(key)
        let configuration = self.configuration
        return try await read { db in
            let now = db.now
            let row = try Access.row(db, key: key, scope: scope).seen(at: configuration.expiryInstant(now))
            return SessionStatistics(
                key: key, duration: .milliseconds((row.endedAt ?? now) - row.createdAt), configChanges: row.configChanges,
                statements: row.statements, failures: row.failures)
        }
    }
}
