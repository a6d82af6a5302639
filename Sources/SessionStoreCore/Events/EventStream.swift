/// A live, unending sequence read from the event log: it yields each committed event
/// after a starting sequence number, in order, including events written by other
/// processes on the same file, and ends when its task is cancelled.
///
/// Every stream of a store is served by one follower that reads new events once per
/// commit, whatever the number of streams; a stream whose task is cancelled or whose
/// iterator is released stops costing anything at once. Each stream has a bounded buffer:
/// one that falls behind reads the log itself at its own position, so a slow consumer
/// never blocks writers or other streams and never loses events while they are retained —
/// the log is the buffer. A consumer that falls further behind than
/// ``SessionStoreConfiguration/eventRetention`` resumes at the oldest retained event.
/// After ``SessionStore/close()`` the iterator delivers what it buffered, then throws
/// `STORAGE.CLOSED`.
public struct EventStream<Element: Sendable>: AsyncSequence, Sendable {
    let store: SessionStore
    let start: Int64
    /// Only events of these kinds reach `transform` (filtered in SQL); `nil` for all.
    let kinds: Set<EventKind>?
    /// Only events of this user reach `transform`; `nil` for every event.
    let userId: String?
    let pollInterval: Duration
    let transform: @Sendable (StoreEvent) -> Element?

    init(
        store: SessionStore, start: Int64, kinds: Set<EventKind>? = nil, userId: String? = nil, pollInterval: Duration,
        transform: @escaping @Sendable (StoreEvent) -> Element?
    ) {
        self.store = store
        self.start = start
        self.kinds = kinds
        self.userId = userId
        self.pollInterval = pollInterval
        self.transform = transform
    }

    /// Starts reading after the stream's starting sequence number.
    public func makeAsyncIterator() -> Iterator {
        let follower = store.eventFollower
        let consumer = follower.register(after: start, kinds: kinds, userId: userId, checkInterval: pollInterval)
        return Iterator(transform: transform, registration: EventRegistration(follower: follower, consumer: consumer))
    }

    /// Takes events from the store's follower, reading the log itself when behind.
    public struct Iterator: AsyncIteratorProtocol {
        let transform: @Sendable (StoreEvent) -> Element?
        let registration: EventRegistration

        /// The next matching event, waiting for one to be committed; `nil` once the task
        /// is cancelled.
        public mutating func next() async throws -> Element? {
            let follower = registration.follower
            let consumer = registration.consumer
            while true {
                switch consumer.step() {
                case .event(let event):
                    if let element = transform(event) { return element }
                case .finished(let error):
                    if let error { throw error }
                    return nil
                case .catchUp(let after):
                    if Task.isCancelled {
                        follower.remove(consumer)
                        return nil
                    }
                    let page = try await follower.readPage(
                        after: after, kinds: consumer.kinds, userId: consumer.userId, limit: consumer.capacity)
                    consumer.merge(page)
                case .wait:
                    if Task.isCancelled {
                        follower.remove(consumer)
                        return nil
                    }
                    await consumer.wait { follower.remove(consumer) }
                }
            }
        }
    }
}

/// Keeps a consumer registered with the follower for as long as its iterator lives.
final class EventRegistration: Sendable {
    let follower: EventFollower
    let consumer: EventConsumer

    init(follower: EventFollower, consumer: EventConsumer) {
        self.follower = follower
        self.consumer = consumer
    }

    deinit {
        follower.remove(consumer)
    }
}

/// Every user's events: unchecked calls for trusted code in the process. A caller that is
/// not trusted is served through ``SessionStore/acting(as:)``, whose
/// ``ScopedSessionStore`` makes the same calls for one principal.
extension SessionStore {
    /// Every event after `seq`, then each new one as it is committed.
    ///
    /// ```swift
    /// for try await event in store.events(from: 0) {
    ///     print(event.seq, event.kind)
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - kinds: only events of these kinds (filtered in SQL); `nil`, the default, for
    ///     every kind.
    ///   - pollInterval: how soon, at most, the stream notices a commit of another
    ///     process (this process's commits wake it at once). The store's one follower
    ///     checks at the shortest interval any of its streams asked for.
    public func events(
        from seq: Int64, kinds: Set<EventKind>? = nil, pollInterval: Duration = .milliseconds(50)
    ) -> EventStream<StoreEvent> {
        EventStream(store: self, start: seq, kinds: kinds, pollInterval: pollInterval, transform: { $0 })
    }

    /// The sequence number of the newest event; 0 on an empty log.
    public func latestEventSeq() async throws -> Int64 {
        try await read { db in try db.events.lastSequence() }
    }
}
