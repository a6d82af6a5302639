import Synchronization

/// One reader of the event log served by the store's ``EventFollower``: a bounded buffer
/// the follower fills after commits, and how far the log is covered.
///
/// The follower appends only while the consumer is contiguous with what it reads and the
/// buffer has room. A consumer that fell behind — its buffer was full, it started in the
/// past, or it wants kinds the follower's last read left out — reads the log itself at
/// its own position until it has caught up: the log is the buffer, so nothing retained
/// is lost and a slow consumer holds up neither writers nor other consumers.
final class EventConsumer: Sendable {
    /// What the iterator does next.
    enum Step {
        /// Deliver this event.
        case event(StoreEvent)
        /// Read the log after this sequence number, then ask again.
        case catchUp(after: Int64)
        /// Nothing to do until the follower offers more.
        case wait
        /// The consumer was removed; with an error when the store closed.
        case finished(SessionStoreError?)
    }

    private struct State {
        var buffer: [StoreEvent] = []
        var head = 0
        /// Every wanted event up to this sequence number is in `buffer` or was taken.
        var covered: Int64
        /// How far the follower has read the log; `nil` before it started.
        var followed: Int64?
        var waiter: CheckedContinuation<Void, Never>?
        var isFinished = false
        /// Thrown once the buffer is drained: the store closed.
        var finishError: SessionStoreError?

        var buffered: Int { buffer.count - head }
        var isBehind: Bool { followed.map { covered < $0 } ?? false }
        var hasWork: Bool { buffered > 0 || isBehind || isFinished }
    }

    let id: Int
    /// Only events of these kinds; `nil` for every kind.
    let kinds: Set<EventKind>?
    /// Only events of this user; `nil` for every user and store-wide events.
    let userId: String?
    /// How soon the consumer wants to hear of other processes' commits.
    let checkInterval: Duration
    /// The most events the follower buffers for it.
    let capacity: Int
    private let state: Mutex<State>

    init(
        id: Int, after start: Int64, kinds: Set<EventKind>?, userId: String?, checkInterval: Duration, capacity: Int,
        followed: Int64?
    ) {
        self.id = id
        self.kinds = kinds
        self.userId = userId
        self.checkInterval = checkInterval
        self.capacity = max(1, capacity)
        state = Mutex(State(covered: start, followed: followed))
    }

    /// Takes the next buffered event, or says what to do instead.
    func step() -> Step {
        state.withLock { state in
            if state.head < state.buffer.count {
                let event = state.buffer[state.head]
                state.head += 1
                if state.head == state.buffer.count {
                    state.buffer.removeAll(keepingCapacity: true)
                    state.head = 0
                }
                return .event(event)
            }
            if state.isFinished { return .finished(state.finishError) }
            return state.isBehind ? .catchUp(after: state.covered) : .wait
        }
    }

    /// Adds a page the consumer read itself after the position ``step()`` gave it.
    func merge(_ page: EventPage) {
        state.withLock { state in
            for event in page.events where event.seq > state.covered {
                state.buffer.append(event)
                state.covered = event.seq
            }
            state.covered = max(state.covered, page.through)
        }
    }

    /// Offers a page of every kind the follower read after `start`. Taken only if the
    /// consumer is contiguous with it; the consumer keeps the events it wants, and events
    /// past the buffer's capacity are left for it to read itself.
    func offer(_ page: EventPage, after start: Int64) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.followed = max(state.followed ?? page.through, page.through)
            if state.covered >= start {
                var full = false
                for event in page.events where event.seq > state.covered && wants(event) {
                    guard state.buffered < capacity else {
                        full = true
                        break
                    }
                    state.buffer.append(event)
                    state.covered = event.seq
                }
                if !full { state.covered = max(state.covered, page.through) }
            }
            guard state.hasWork else { return nil }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Waits until the follower offers something, the consumer falls behind, or it is
    /// finished; `onCancel` runs at once when the task is cancelled.
    func wait(onCancel: @escaping @Sendable () -> Void) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state in
                    if state.hasWork { return true }
                    state.waiter = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            onCancel()
        }
    }

    /// Ends the consumer: its iterator delivers what is buffered, then ends (throwing
    /// `error` when given).
    func finish(_ error: SessionStoreError? = nil) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if !state.isFinished {
                state.isFinished = true
                state.finishError = error
            }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// The follower reads every user's events once for all consumers; a consumer of one
    /// user's keeps only those (its own reads select them in SQL).
    private func wants(_ event: StoreEvent) -> Bool {
        guard kinds?.contains(event.kind) ?? true else { return false }
        guard let userId else { return true }
        return event.userId?.hasSameBytes(as: userId) ?? false
    }
}
