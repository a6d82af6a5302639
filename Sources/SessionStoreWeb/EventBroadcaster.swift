import Logging
import ServiceLifecycle
import SessionStoreCore
import Synchronization

/// Fans the store's events out to every Server-Sent Events client of the web view through
/// one stream of the store's follower: a hundred open tabs cost the follower's one query
/// per commit, not a hundred.
///
/// Run it as a `Service` beside the HTTP server, after the server in the service group's
/// list, so that graceful shutdown stops it first: its end finishes every client's stream,
/// and the server's open responses end with them. Each client has a bounded buffer; a
/// client that falls that far behind is ended, and its browser reconnects with
/// `Last-Event-ID` and reads what it missed from the log.
public final class EventBroadcaster: Service, Sendable {
    /// What a client's stream carries.
    enum Delivery: Sendable {
        case event(StoreEvent)
        /// Nothing happened for ``heartbeatInterval``: a comment line keeps proxies from
        /// closing the connection, and a write to a client that went away ends it.
        case heartbeat
    }

    /// A client's stream and where the shared stream stood when it joined: events after
    /// `position` come through `deliveries`; those up to it are in the log.
    struct Subscription: Sendable {
        let id: Int
        let deliveries: AsyncStream<Delivery>
        let position: Int64
    }

    private struct State {
        var clients: [Int: AsyncStream<Delivery>.Continuation] = [:]
        var nextId = 0
        /// The newest sequence number delivered; `nil` until the stream has started.
        var position: Int64?
        var isFinished = false
    }

    /// Events buffered for one client before it is ended as too slow.
    static let clientCapacity = 4_096
    /// How often an idle stream sends a comment line.
    static let heartbeatInterval: Duration = .seconds(10)

    private let store: SessionStore
    private let logger: Logger
    private let state = Mutex(State())

    /// A broadcaster of `store`'s events; it reads nothing until ``run()``.
    public init(store: SessionStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// Clients connected now.
    public var clientCount: Int { state.withLock { $0.clients.count } }

    /// Whether the broadcaster follows the store now: a client that joins before it starts
    /// or after it ends gets a stream that ends at once (a browser reconnects).
    var isFollowing: Bool { state.withLock { $0.position != nil && !$0.isFinished } }

    /// Follows the store from its newest event until cancelled or shut down gracefully,
    /// then ends every client's stream.
    public func run() async throws {
        defer { finish() }
        let start = try await store.latestEventSeq()
        state.withLock { $0.position = start }
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                try? await self.beat()
            }
            for try await event in store.events(from: start).cancelOnGracefulShutdown() {
                deliver(.event(event), position: event.seq)
            }
            group.cancelAll()
        }
    }

    /// Joins a client; its stream ends when the broadcaster does. Pair with ``leave(_:)``.
    func join() -> Subscription {
        let (deliveries, continuation) = AsyncStream.makeStream(
            of: Delivery.self, bufferingPolicy: .bufferingNewest(Self.clientCapacity))
        return state.withLock { state in
            let id = state.nextId
            state.nextId += 1
            if state.isFinished || state.position == nil {
                // Not following (yet, or any more): the client reads the log and ends.
                continuation.finish()
            } else {
                state.clients[id] = continuation
            }
            return Subscription(id: id, deliveries: deliveries, position: state.position ?? 0)
        }
    }

    /// Removes a client.
    func leave(_ subscription: Subscription) {
        state.withLock { $0.clients.removeValue(forKey: subscription.id) }?.finish()
    }

    private func deliver(_ delivery: Delivery, position: Int64?) {
        let dropped = state.withLock { state -> [AsyncStream<Delivery>.Continuation] in
            if let position { state.position = position }
            var dropped: [AsyncStream<Delivery>.Continuation] = []
            for (id, client) in state.clients {
                if case .dropped = client.yield(delivery) {
                    state.clients[id] = nil
                    dropped.append(client)
                }
            }
            return dropped
        }
        for client in dropped {
            logger.debug("web client fell behind; its stream ends and it resumes from the log")
            client.finish()
        }
    }

    private func beat() async throws {
        while !Task.isCancelled {
            try await Task.sleep(for: Self.heartbeatInterval)
            deliver(.heartbeat, position: nil)
        }
    }

    private func finish() {
        let clients = state.withLock { state in
            state.isFinished = true
            defer { state.clients = [:] }
            return Array(state.clients.values)
        }
        clients.forEach { $0.finish() }
    }
}
