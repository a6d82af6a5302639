/// A live, unending sequence read from the event log: it yields each committed event
/// after a starting sequence number, in order, including events written by other
/// processes on the same file, and ends when its task is cancelled.
///
/// It pulls from the durable log at its own pace (polling every `pollInterval` when it
/// has caught up), so a slow consumer never blocks writers and never loses events while
/// they are retained: the log is the buffer. A consumer that falls further behind than
/// ``SessionStoreConfiguration/eventRetention`` resumes at the oldest retained event.
public struct EventStream<Element: Sendable>: AsyncSequence, Sendable {
    let store: SessionStore
    let start: Int64
    let pollInterval: Duration
    let transform: @Sendable (StoreEvent) -> Element?

    /// Starts reading after the stream's starting sequence number.
    public func makeAsyncIterator() -> Iterator {
        Iterator(stream: self, position: start)
    }

    /// Reads the log in pages, sleeping `pollInterval` whenever it has caught up.
    public struct Iterator: AsyncIteratorProtocol {
        let stream: EventStream
        /// The sequence number of the last event read from the log.
        var position: Int64
        var buffer: [Element] = []
        var index = 0

        /// The next matching event, waiting for one to be committed; `nil` once the task
        /// is cancelled.
        public mutating func next() async throws -> Element? {
            while true {
                if index < buffer.count {
                    defer { index += 1 }
                    return buffer[index]
                }
                if Task.isCancelled { return nil }
                let events = try await stream.store.listEvents(after: position, limit: 512)
                if let last = events.last {
                    position = last.seq
                    buffer = events.compactMap(stream.transform)
                    index = 0
                } else {
                    do {
                        try await Task.sleep(for: stream.pollInterval)
                    } catch {
                        return nil
                    }
                }
            }
        }
    }
}

/// A session that started or stopped, as the Stream API's notifications report it.
public struct SessionNotification: Sendable, Hashable, Codable {
    /// The key of the session that started or stopped.
    public var sessionKey: String
    /// The session's data source.
    public var dataSource: String
    /// The sequence number of the event it came from.
    public var seq: Int64
}

extension SessionStore {
    /// Every event after `seq`, then each new one as it is committed.
    ///
    /// ```swift
    /// for try await event in store.events(from: 0) {
    ///     print(event.seq, event.kind)
    /// }
    /// ```
    public func events(from seq: Int64, pollInterval: Duration = .milliseconds(50)) -> EventStream<StoreEvent> {
        EventStream(store: self, start: seq, pollInterval: pollInterval, transform: { $0 })
    }

    /// Sessions started from now on (no history), optionally of one data source, in this
    /// process or any other on the same file; each is delivered after its commit.
    public func sessionStarts(dataSource: String? = nil, pollInterval: Duration = .milliseconds(50)) async throws -> EventStream<SessionNotification> {
        try await notifications(kind: EventKind.sessionStarted, dataSource: dataSource, pollInterval: pollInterval)
    }

    /// Sessions ended from now on (closed, expired or failed), optionally of one data
    /// source; see ``sessionStarts(dataSource:pollInterval:)``.
    public func sessionStops(dataSource: String? = nil, pollInterval: Duration = .milliseconds(50)) async throws -> EventStream<SessionNotification> {
        try await notifications(kind: EventKind.sessionEnded, dataSource: dataSource, pollInterval: pollInterval)
    }

    /// The sequence number of the newest event; 0 on an empty log.
    public func latestEventSeq() async throws -> Int64 {
        try await read { db in try EventLog.lastSequence(db) }
    }

    private func notifications(kind: EventKind, dataSource: String?, pollInterval: Duration) async throws -> EventStream<SessionNotification> {
        let start = try await latestEventSeq()
        return EventStream(store: self, start: start, pollInterval: pollInterval) { event in
            guard event.kind == kind, let key = event.sessionKey, let source = event.dataSource,
                dataSource == nil || dataSource == source
            else { return nil }
            return SessionNotification(sessionKey: key, dataSource: source, seq: event.seq)
        }
    }

    /// A named, durable consumer of the event log: it resumes after the last sequence
    /// number it acknowledged, also after a restart.
    ///
    /// ```swift
    /// let subscription = store.subscription(named: "billing")
    /// for try await event in try await subscription.events() {
    ///     try await bill(event)
    ///     try await subscription.acknowledge(through: event.seq)
    /// }
    /// ```
    public func subscription(named name: String) throws -> DurableSubscription {
        try configuration.validator.id(name, field: .invalidSubscription)
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

    /// The events after the acknowledged position, then each new one as it commits.
    /// Events delivered but not acknowledged are delivered again after a restart.
    public func events(pollInterval: Duration = .milliseconds(50)) async throws -> EventStream<StoreEvent> {
        store.events(from: try await acknowledgedSeq(), pollInterval: pollInterval)
    }

    /// Up to `limit` events after the acknowledged position, without waiting.
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
