import Logging
import ServiceLifecycle
import Synchronization

/// The background service that keeps a store tidy: each tick it records the heartbeat,
/// expires due sessions through the expiry index, and runs the maintenance passes (see
/// ``SessionStore/sweep(pause:)``). Run it in a `ServiceGroup`; it stops on graceful
/// shutdown or cancellation.
///
/// ```swift
/// let sweeper = ExpirySweeper(store: store)
/// let group = ServiceGroup(
///     services: [sweeper], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
/// try await group.run()
/// ```
///
/// A process running it is a *serving* process. When the last one goes away, crashed or
/// stopped (its ``SessionStore/close()``), the next process to open the store gives the
/// live sessions that fell due after it was last seen a full timeout: ZooKeeper's rule
/// that time without a server does not count. Sessions due before stay expired.
///
/// Scheduling uses `clock` (monotonic by default) so wall-clock jumps never make it
/// sweep in a burst; expiry itself compares the store's wall clock with `expire_at`. If a
/// pass finds the previous one more than
/// ``SessionStoreConfiguration/maxSweepLagTicks`` ticks ago, by either clock (a suspended
/// process, a jump of the wall clock), it records a `sweeper.storm_guard` event and a
/// warning; the overdue sessions, already expired for every reader, end in batches.
public struct ExpirySweeper<C: Clock>: Service where C.Duration == Duration {
    /// The store it sweeps.
    public let store: SessionStore
    /// Time between passes; the store's tick by default.
    public let interval: Duration
    /// At most this long is waited, at random, between expiry batches and before each
    /// pass, so several processes sweeping one file do not move in lock-step.
    public let jitter: Duration
    let clock: C
    private let state: Locked<State>

    private struct State {
        var lastInstant: C.Instant?
        var lastHeartbeat: Int64?
        /// Whether ``startServing()`` marked the store served.
        var isServing = false
    }

    /// A sweeper of `store` scheduled by `clock`; `interval` defaults to the store's tick
    /// and `jitter` to a tenth of it, at most 100 ms.
    public init(store: SessionStore, clock: C, interval: Duration? = nil, jitter: Duration? = nil) {
        self.store = store
        self.clock = clock
        self.interval = interval ?? store.configuration.tick
        self.jitter = jitter ?? .milliseconds(min(store.configuration.tickMs / 10, 100))
        self.state = Locked(State())
    }

    /// Marks the store as served by this process before ``run()`` starts: a server that
    /// announces itself once serving calls it first, so a kill after the announcement
    /// re-arms at the next open. ``run()`` marks the store itself when this was not called.
    public func startServing() async throws {
        try await store.beginServing()
        state.mutex.withLock { $0.isServing = true }
    }

    /// Sweeps every `interval` until graceful shutdown or cancellation.
    public func run() async throws {
        if !state.mutex.withLock({ $0.isServing }) {
            do {
                try await startServing()
            } catch {
                store.logger.warning("could not mark the store as served", metadata: ["error.message": "\(error)"])
            }
        }
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    _ = try await runPass()
                    try await store.recordMetricsSnapshot()
                } catch let error as SessionStoreError {
                    store.logger.warning("sweep failed; retrying next tick", metadata: ["error.code": "\(error.code)", "error.message": "\(error.message)"])
                }
                do {
                    try await clock.sleep(for: interval + randomJitter())
                } catch is CancellationError {
                    break
                }
            }
        }
        // Not serving from here, whatever the write does: a later run marks the store again.
        state.mutex.withLock { $0.isServing = false }
        do {
            try await store.endServing()
        } catch {
            store.logger.warning("could not record the end of serving", metadata: ["error.message": "\(error)"])
        }
        store.logger.debug("sweeper stopped", metadata: ["store.path": "\(store.path)"])
    }

    /// One pass: heartbeat when due, the liveness check of the other instances, the storm
    /// guard when the store's previous pass (by any instance) is too far behind, then
    /// ``SessionStore/sweep(pause:)``.
    @discardableResult
    package func runPass() async throws -> SweepReport {
        let configuration = store.configuration
        // The store's time (the database's on PostgreSQL), the last pass of any instance,
        // and whether another instance looks dead: one read.
        let (wallNow, lastPass, othersLookGone) = try await store.passState()
        let instantNow = clock.now
        let (lastInstant, heartbeatDue) = state.mutex.withLock { state in
            defer { state.lastInstant = instantNow }
            let due = state.lastHeartbeat.map { wallNow.subtractingSaturated($0) >= configuration.heartbeatIntervalMs } ?? true
            if due { state.lastHeartbeat = wallNow }
            return (state.lastInstant, due)
        }
        if heartbeatDue {
            try await store.heartbeat()
        }
        if othersLookGone {
            do {
                try await store.recoverDeadInstances()
            } catch {
                store.logger.warning("could not recover the other instances", metadata: ["error.code": "\(error.code)"])
            }
        }
        // Saturating: a tick or interval near the largest duration must not trap here.
        let (lag, lagOverflow) = configuration.maxSweepLagTicks.multipliedReportingOverflow(by: configuration.tickMs)
        let (sum, sumOverflow) = lag.addingReportingOverflow(interval.wholeMilliseconds)
        let allowed = lagOverflow || sumOverflow ? Int64.max : sum
        var behind: Int64 = 0
        if let lastPass {
            behind = max(behind, wallNow.subtractingSaturated(lastPass))
        }
        if let lastInstant {
            behind = max(behind, lastInstant.duration(to: instantNow).wholeMilliseconds)
        }
        if behind > allowed {
            try await store.recordSweeperLag(behindMs: behind, lastPass: lastPass)
        }
        let jitter = self.jitter
        let clock = self.clock
        return try await store.sweep(pause: {
            try await clock.sleep(for: Self.random(upTo: jitter))
        })
    }

    private func randomJitter() -> Duration {
        Self.random(upTo: jitter)
    }

    private static func random(upTo limit: Duration) -> Duration {
        let milliseconds = limit.wholeMilliseconds
        return milliseconds > 0 ? .milliseconds(Int64.random(in: 0...milliseconds)) : .zero
    }
}

extension ExpirySweeper where C == ContinuousClock {
    /// A sweeper scheduled by the monotonic `ContinuousClock`.
    public init(store: SessionStore, interval: Duration? = nil, jitter: Duration? = nil) {
        self.init(store: store, clock: ContinuousClock(), interval: interval, jitter: jitter)
    }
}
