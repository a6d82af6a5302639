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
        return DurableSubscription(store: self, name: name)
    }
}

/// See ``SessionStore/subscription(named:)``.
public struct DurableSubscription: Sendable {
    /// The store whose event log it reads.
    public let store: SessionStore
    /// The subscription's name, under which its acknowledged position is kept.
    public let name: String

    /// The last sequence number acknowledged; 0 before the first acknowledgement.
    public func acknowledgedSeq() async throws -> Int64 {
        let name = self.name
        return try await store.read { db in try SubscriptionRecords.acknowledged(db, subscription: name) }
    }

    /// The events after the acknowledged position, then each new one as it commits
    /// (see ``EventStream``). Events delivered but not acknowledged are delivered again
    /// after a restart.
    public func events(pollInterval: Duration = .milliseconds(50)) async throws -> EventStream<StoreEvent> {
        store.events(from: try await acknowledgedSeq(), pollInterval: pollInterval)
    }

    /// Up to `limit` events after the acknowledged position, without waiting.
    ///
    /// - Throws: `INVALID_ARGUMENT.LIMIT` for a limit outside 1...10,000.
    public func listPendingEvents(limit: Int = 1000) async throws -> [StoreEvent] {
        try await store.listEvents(after: try await acknowledgedSeq(), limit: limit)
    }

    /// Records that every event up to `seq` is handled. Never moves backwards.
    public func acknowledge(through seq: Int64) async throws {
        let name = self.name
        let clock = store.clock
        try await store.write { db in
            try SubscriptionRecords.acknowledge(db, subscription: name, through: seq, at: clock.now())
        }
    }
}
