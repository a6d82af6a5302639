// MARK: Events, subscriptions and notifications

extension ScopedSessionStore {
    /// Up to `limit` events of `user` (the principal when `nil`) after `seq`, oldest first,
    /// selected in SQL by the events' user. See ``SessionStore/listEvents(after:limit:filter:)``.
    ///
    /// - Throws: `PERMISSION_DENIED.IMPERSONATION` for a user the principal may not act as.
    public func listEvents(
        after seq: Int64 = 0, limit: Int = 100, filter: EventFilter = EventFilter(), user: String? = nil
    ) async throws -> [StoreEvent] {
        try await store.listEvents(after: seq, limit: limit, filter: filter, userId: self.user(user)).map(shown)
    }

    /// One page of the events of `kinds` (every kind when `nil`) of `user` (the principal
    /// when `nil`) after `seq`, selected in storage, and the position the next page starts
    /// after (``EventPage/through``: the page covers the log up to it, so a reader that
    /// continues from there skips nothing and a page with no event of `kinds` still moves
    /// on). Up to `limit` events (1...10,000).
    ///
    /// - Throws: `PERMISSION_DENIED.IMPERSONATION` for a user the principal may not act as,
    ///   `INVALID_ARGUMENT.LIMIT` for a limit outside 1...10,000.
    package func eventPage(
        after seq: Int64, kinds: Set<EventKind>?, limit: Int, user: String? = nil
    ) async throws -> EventPage {
        try store.configuration.validator.listLimit(limit)
        var page = try await store.eventFollower.readPage(after: seq, kinds: kinds, userId: try self.user(user), limit: limit)
        page.events = page.events.map(shown)
        return page
    }

    /// The events of `user` (the principal when `nil`) after `seq`, then each new one as
    /// it commits. See ``SessionStore/events(from:kinds:pollInterval:)``.
    ///
    /// - Throws: `PERMISSION_DENIED.IMPERSONATION` for a user the principal may not act as.
    public func events(
        from seq: Int64, kinds: Set<EventKind>? = nil, user: String? = nil, pollInterval: Duration = .milliseconds(50)
    ) throws -> EventStream<StoreEvent> {
        EventStream(store: store, start: seq, kinds: kinds, userId: try self.user(user), pollInterval: pollInterval) {
            [self] event in shown(event)
        }
    }

    /// The sequence number of the newest event of `user` (the principal when `nil`); 0
    /// when there is none. Pass it to ``events(from:kinds:user:pollInterval:)`` to follow
    /// only what comes next.
    public func latestEventSeq(user: String? = nil) async throws -> Int64 {
        let userId = try self.user(user)
        return try await store.read { db in
            guard let userId else { return try db.events.lastSequence() }
            return try db.events.lastSequence(userId: userId)
        }
    }

    /// The principal's durable consumer `name` of the events of `user` (the principal
    /// when `nil`). Its acknowledged position is kept apart from every other principal's
    /// subscriptions and from those of ``SessionStore/subscription(named:)``, whatever
    /// their names: another principal can neither read nor acknowledge it.
    ///
    /// - Throws: `INVALID_ARGUMENT.SUBSCRIPTION` for an invalid name,
    ///   `PERMISSION_DENIED.IMPERSONATION` for a user the principal may not act as.
    public func subscription(named name: String, user: String? = nil) throws -> DurableSubscription {
        let name = try store.configuration.validator.id(name, field: .invalidSubscription)
        let userId = try self.user(user)
        // Validated names hold no control character: with U+001F between the parts, no
        // two (principal, user, name) triples, and no unscoped name, share a key.
        // The trusted view shares the names of ``SessionStore/subscription(named:)``.
        let storageName = scope.map { [$0.principal, userId ?? "", name].joined(separator: "\u{1F}") } ?? name
        return DurableSubscription(store: store, name: name, storageName: storageName, scope: scope, userId: userId)
    }

    /// The resources released from the sessions of `user` (the principal when `nil`),
    /// delivered at least once to the principal's durable consumer `name`. See
    /// ``SessionStore/resourceReleases(subscription:pollInterval:)``.
    ///
    /// - Throws: what ``subscription(named:user:)`` throws.
    public func resourceReleases(
        subscription name: String, user: String? = nil, pollInterval: Duration = .milliseconds(50)
    ) throws -> ResourceReleases {
        ResourceReleases(subscription: try subscription(named: name, user: user), pollInterval: pollInterval)
    }

    /// The sessions of `user` (the principal when `nil`) started after `seq`. See
    /// ``SessionStore/sessionStarts(dataSource:after:pollInterval:)``.
    ///
    /// - Throws: `PERMISSION_DENIED.IMPERSONATION` for a user the principal may not act as.
    public func sessionStarts(
        dataSource: String? = nil, user: String? = nil, after seq: Int64? = nil, pollInterval: Duration = .milliseconds(50)
    ) async throws -> EventStream<SessionNotification> {
        try await store.notifications(
            kind: EventKind.sessionStarted, dataSource: dataSource, userId: self.user(user), after: seq,
            pollInterval: pollInterval)
    }

    /// The sessions of `user` (the principal when `nil`) ended after `seq`. See
    /// ``SessionStore/sessionStops(dataSource:after:pollInterval:)``.
    ///
    /// - Throws: `PERMISSION_DENIED.IMPERSONATION` for a user the principal may not act as.
    public func sessionStops(
        dataSource: String? = nil, user: String? = nil, after seq: Int64? = nil, pollInterval: Duration = .milliseconds(50)
    ) async throws -> EventStream<SessionNotification> {
        try await store.notifications(
            kind: EventKind.sessionEnded, dataSource: dataSource, userId: self.user(user), after: seq,
            pollInterval: pollInterval)
    }
}
