/// Durable consumers of every user's events, by global name: unchecked calls for trusted
/// code in the process. A caller that is not trusted is served through
/// ``SessionStore/acting(as:)``, whose ``ScopedSessionStore`` makes the same calls for
/// one principal.
extension SessionStore {
    /// A named, durable consumer of the event log: it resumes after the last sequence
    /// number it acknowledged, also after a restart.
    ///
    /// ```swift
    /// let subscription = try store.subscription(named: "billing")
    /// for try await event in try await subscription.events() {
    ///     try await bill(event)
    ///     try await subscription.acknowledge(through: event.seq)
    /// }
    /// ```
    ///
    /// A subscription not acknowledged for
    /// ``SessionStoreConfiguration/subscriptionRetention`` is forgotten by the sweeper:
    /// used again, it starts from the oldest retained event.
    public func subscription(named name: String) throws -> DurableSubscription {
        let name = try configuration.validator.id(name, field: .invalidSubscription)
        return DurableSubscription(store: self, name: name, storageName: name, scope: nil, userId: nil)
    }
}

/// See ``SessionStore/subscription(named:)``.
public struct DurableSubscription: Sendable {
    /// The store whose event log it reads.
    public let store: SessionStore
    /// The subscription's name, under which its acknowledged position is kept.
    public let name: String
    /// The key of its row in `subscriptions`: ``name``, or for a subscription of
    /// ``ScopedSessionStore/subscription(named:user:)`` a key no other principal's
    /// subscription (and no unscoped name) can have.
    let storageName: String
    /// The principal of a scoped subscription, whose events it shows as
    /// ``AccessScope/shown(_:)`` does.
    let scope: AccessScope?
    /// Only this user's events; `nil` for every event.
    let userId: String?

    /// The last sequence number acknowledged; 0 before the first acknowledgement.
    public func acknowledgedSeq() async throws -> Int64 {
        let name = storageName
        return try await store.read { db in try db.subscriptions.acknowledged(subscription: name) }
    }

    /// The events after the acknowledged position, then each new one as it commits
    /// (see ``EventStream``). Events delivered but not acknowledged are delivered again
    /// after a restart.
    public func events(pollInterval: Duration = .milliseconds(50)) async throws -> EventStream<StoreEvent> {
        try await stream(kinds: nil, pollInterval: pollInterval) { $0 }
    }

    /// The subscription's events after the acknowledged position, of `kinds` (all when
    /// `nil`), through `transform`.
    func stream<Element: Sendable>(
        kinds: Set<EventKind>?, pollInterval: Duration, transform: @escaping @Sendable (StoreEvent) -> Element?
    ) async throws -> EventStream<Element> {
        let scope = self.scope
        return EventStream(
            store: store, start: try await acknowledgedSeq(), kinds: kinds, userId: userId, pollInterval: pollInterval
        ) { event in transform(scope?.shown(event) ?? event) }
    }

    /// Up to `limit` events after the acknowledged position, without waiting.
    ///
    /// - Throws: `INVALID_ARGUMENT.LIMIT` for a limit outside 1...10,000.
    public func listPendingEvents(limit: Int = 1000) async throws -> [StoreEvent] {
        try await listPendingEvents(limit: limit, filter: EventFilter())
    }

    /// ``listPendingEvents(limit:)`` of the events `filter` selects.
    func listPendingEvents(limit: Int, filter: EventFilter) async throws -> [StoreEvent] {
        let events = try await store.listEvents(after: try await acknowledgedSeq(), limit: limit, filter: filter, userId: userId)
        guard let scope else { return events }
        return events.map(scope.shown)
    }

    /// Records that every event up to `seq` is handled. Never moves backwards.
    public func acknowledge(through seq: Int64) async throws {
        let name = storageName
        try await store.write { db in
            try db.subscriptions.acknowledge(subscription: name, through: seq, at: db.now)
        }
    }
}
