import Logging
import Synchronization

/// The one reader of new events that serves every notification consumer of a store
/// (``EventStream``, ``DurableSubscription``, resource releases).
///
/// It runs only while there are consumers: the first one starts it, the last one to go
/// stops it, and so does ``SessionStore/close()``. It is woken by commits — this
/// process's writes tell it directly; other processes' commits are seen through `PRAGMA
/// data_version` on a connection of its own, checked at the shortest interval its
/// consumers asked for. Each wake that finds a change reads the new events once, of every
/// kind, and offers them to each consumer, which keeps the kinds and user it wants: a
/// thousand idle consumers cost one query per commit, and no consumer's filter can change
/// (or break) that query.
///
/// The wake-up only says "look again"; what is delivered always comes from the log, so a
/// missed or spurious wake-up never loses or invents an event.
package final class EventFollower: Sendable {
    /// A running follower task and what wakes it.
    private struct Run {
        let id: Int
        let wake: AsyncStream<Void>.Continuation
        let task: Task<Void, Never>

        func stop() {
            wake.finish()
            task.cancel()
        }
    }

    private struct State {
        var consumers: [Int: EventConsumer] = [:]
        var nextId = 0
        var run: Run?
        /// How far the current run has read the log; `nil` until it has started.
        var position: Int64?
        /// Every follower task not yet ended, the current run's and any still stopping.
        var tasks: [Int: Task<Void, Never>] = [:]
        var isClosed = false
    }

    /// The most events read in one query.
    static let pageSize = 512
    /// The interval used while no consumer asked for one.
    static let defaultCheckInterval: Duration = .milliseconds(50)

    private let backend: any StorageBackend
    private let logger: Logger
    /// The most events buffered for one consumer before it reads the log itself.
    package let consumerCapacity: Int
    private let state = Mutex(State())
    private let reads = Atomic<Int>(0)
    private let checks = Atomic<Int>(0)

    init(backend: any StorageBackend, logger: Logger, consumerCapacity: Int = 1024) {
        self.backend = backend
        self.logger = logger
        self.consumerCapacity = consumerCapacity
    }

    /// Queries of the event log made for consumers since the store opened: the
    /// follower's reads of new events and consumers' own reads when behind.
    package var eventReads: Int { reads.load(ordering: .relaxed) }
    /// Wake-ups the follower has handled (each checked the file for a change) since the
    /// store opened.
    package var changeChecks: Int { checks.load(ordering: .relaxed) }
    /// Consumers registered now.
    package var consumerCount: Int { state.withLock { $0.consumers.count } }
    /// Follower tasks that have not ended yet.
    package var runningTasks: Int { state.withLock { $0.tasks.count } }

    /// Registers a consumer of the events after `start` of `kinds` (every kind when
    /// `nil`) and of `userId` (every user when `nil`), starting the follower if it is not running. After ``close()`` the consumer
    /// comes back finished with `STORAGE.CLOSED`.
    func register(after start: Int64, kinds: Set<EventKind>?, userId: String?, checkInterval: Duration) -> EventConsumer {
        state.withLock { state in
            let consumer = EventConsumer(
                id: state.nextId, after: start, kinds: kinds, userId: userId, checkInterval: checkInterval, capacity: consumerCapacity,
                followed: state.position)
            state.nextId += 1
            if state.isClosed {
                consumer.finish(Self.closedError)
                return consumer
            }
            state.consumers[consumer.id] = consumer
            if state.run == nil {
                state.run = startRun(id: state.nextId, in: &state)
                state.nextId += 1
            }
            return consumer
        }
    }

    /// Removes a consumer (its task was cancelled or its iterator released); the last
    /// one to go stops the follower.
    func remove(_ consumer: EventConsumer) {
        consumer.finish()
        let run = state.withLock { state -> Run? in
            guard state.consumers.removeValue(forKey: consumer.id) != nil, state.consumers.isEmpty else { return nil }
            defer {
                state.run = nil
                state.position = nil
            }
            return state.run
        }
        run?.stop()
    }

    /// Says that this process committed: the follower looks at the log now rather than
    /// at its next check.
    func commitObserved() {
        state.withLock { $0.run?.wake }?.yield()
    }

    /// Stops the follower and finishes every consumer with `STORAGE.CLOSED`; returns once
    /// every follower task has ended, so no read is in flight when the connections close.
    func close() async {
        let (run, consumers, tasks) = state.withLock { state in
            state.isClosed = true
            defer {
                state.run = nil
                state.position = nil
                state.consumers = [:]
            }
            return (state.run, Array(state.consumers.values), Array(state.tasks.values))
        }
        run?.stop()
        consumers.forEach { $0.finish(Self.closedError) }
        for task in tasks {
            await task.value
        }
    }

    /// Reads up to `limit` events after `seq` of `kinds` and `userId` (each `nil` for all),
    /// counted in ``eventReads``.
    func readPage(
        after seq: Int64, kinds: Set<EventKind>?, userId: String? = nil, limit: Int = pageSize
    ) async throws(SessionStoreError) -> EventPage {
        reads.add(1, ordering: .relaxed)
        do {
            return try await backend.read { db in try db.events.page(after: seq, kinds: kinds, userId: userId, limit: limit) }
        } catch {
            throw SessionStoreError.wrap(error)
        }
    }

    // MARK: The follower task

    /// Starts a run. A task of its own, not a child of a caller's, and detached so it
    /// takes neither the priority nor the task-local values of the consumer that happened
    /// to come first: it serves every consumer, outlives each of them, and ends when the
    /// last one goes (or at close).
    private func startRun(id: Int, in state: inout State) -> Run {
        let (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        wake.yield()
        let task = Task.detached {
            await self.follow(run: id, wakes: wakes, wake: wake)
            self.state.withLock { _ = $0.tasks.removeValue(forKey: id) }
        }
        state.tasks[id] = task
        return Run(id: id, wake: wake, task: task)
    }

    private func follow(run id: Int, wakes: AsyncStream<Void>, wake: AsyncStream<Void>.Continuation) async {
        let detector: (any ChangeSignal)?
        do {
            detector = try await backend.makeChangeSignal()
        } catch {
            logger.warning(
                "cannot watch the file for other processes' commits; reading the log at every check",
                metadata: ["error.message": "\(error)"])
            detector = nil
        }
        await withDiscardingTaskGroup { group in
            group.addTask { await self.tick(wake) }
            await self.readNewEvents(run: id, wakes: wakes, detector: detector)
            group.cancelAll()
        }
    }

    /// Wakes the follower at the shortest check interval its consumers asked for, so it
    /// sees other processes' commits.
    private func tick(_ wake: AsyncStream<Void>.Continuation) async {
        while !Task.isCancelled {
            let interval = state.withLock { state in state.consumers.values.lazy.map(\.checkInterval).min() }
            do {
                try await Task.sleep(for: interval ?? Self.defaultCheckInterval)
            } catch {
                return
            }
            wake.yield()
        }
    }

    /// At each wake that finds the file changed, reads what is new and offers it.
    private func readNewEvents(run id: Int, wakes: AsyncStream<Void>, detector: (any ChangeSignal)?) async {
        var position: Int64?
        var failed = false
        for await _ in wakes {
            // Checked before reading, so a commit that lands during the read is seen next time.
            let changed = detector?.hasChanged() ?? true
            checks.add(1, ordering: .relaxed)
            guard changed || failed else { continue }
            do {
                if let start = position {
                    position = try await readAndOffer(run: id, after: start)
                } else {
                    let newest = try await backend.read { db in try db.events.lastSequence() }
                    offer(EventPage(events: [], through: newest), after: newest, run: id)
                    position = newest
                }
                failed = false
            } catch {
                if Task.isCancelled { return }
                if !failed {
                    logger.warning("reading new events for notifications failed", metadata: ["error.message": "\(error)"])
                }
                failed = true
            }
        }
    }

    /// Reads every new event after `start` in pages, offering each; returns the new
    /// position. The follower reads every kind and each consumer keeps what it wants, so
    /// what one consumer asks for never changes the one query every consumer waits on.
    private func readAndOffer(run id: Int, after start: Int64) async throws(SessionStoreError) -> Int64 {
        var position = start
        while true {
            let page = try await readPage(after: position, kinds: nil)
            offer(page, after: position, run: id)
            position = page.through
            if page.events.count < Self.pageSize { return position }
        }
    }

    private func offer(_ page: EventPage, after start: Int64, run id: Int) {
        let consumers = state.withLock { state -> [EventConsumer] in
            if state.run?.id == id { state.position = page.through }
            return Array(state.consumers.values)
        }
        for consumer in consumers {
            consumer.offer(page, after: start)
        }
    }

    private static let closedError = SessionStoreError(code: .storageClosed, message: "the store is closed")
}
