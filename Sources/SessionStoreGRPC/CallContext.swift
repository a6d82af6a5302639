import GRPCCore
import SessionStoreCore
import Synchronization

/// What every call of the services shares: the store, the caller's view of it, the
/// mapping of errors to statuses, and the end of streams when the server drains.
struct CallContext: Sendable {
    let store: SessionStore
    let drain: DrainSignal
    let streams: StreamLimiter

    /// The view of the store `caller` may use: scoped to its principal, or the trusted
    /// view when authentication is off.
    func view(for caller: Caller) throws -> ScopedSessionStore {
        switch caller.identity {
        case .trusted: store.trustedView()
        case .principal(let principal): try store.acting(as: principal)
        }
    }

    /// Runs a unary call's body for ``Caller/current`` and maps what it throws.
    func run<Result: Sendable>(
        _ body: (ScopedSessionStore, Caller) async throws -> Result
    ) async throws -> Result {
        guard let caller = Caller.current else {
            throw RPCError(SessionStoreError(code: .authenticationFailed, message: "authentication required"))
        }
        return try await storeCall { try await body(try view(for: caller), caller) }
    }

    /// Runs a streaming call's body like ``run(_:)``, until the body ends, the RPC is
    /// cancelled (the client went away, its deadline passed) or the server drains. gRPC
    /// reports a cancelled RPC through `context.cancellation`, not by cancelling the
    /// handler's task, so the body runs in a child task that either event cancels. On a
    /// drain the stream ends with `UNAVAILABLE`, so the client reconnects (and resumes
    /// after the last sequence number it saw). Each stream counts against its caller's
    /// ``StreamLimiter`` while it runs.
    func stream(
        _ context: ServerContext, _ body: @escaping @Sendable (ScopedSessionStore, Caller) async throws -> Void
    ) async throws {
        enum End { case finished, cancelled, drained }
        try await run { view, caller in
            try await streams.withStream(of: caller) {
                try await withThrowingTaskGroup(of: End.self) { group in
                    group.addTask {
                        try await body(view, caller)
                        return .finished
                    }
                    group.addTask {
                        try await context.cancellation.cancelled
                        return .cancelled
                    }
                    group.addTask {
                        await drain.wait()
                        return .drained
                    }
                    defer { group.cancelAll() }
                    switch try await group.next() ?? .finished {
                    case .finished: return
                    case .cancelled: throw RPCError(code: .cancelled, message: "the call was cancelled")
                    case .drained: throw RPCError(code: .unavailable, message: "the server is shutting down; reconnect and resume")
                    }
                }
            }
        }
    }

    /// Writes each element of `source` to `writer`, transformed, until the source ends or
    /// the call is cancelled.
    func forward<Source: AsyncSequence & Sendable, Message: Sendable>(
        _ source: Source, to writer: RPCWriter<Message>, _ transform: (Source.Element) -> Message
    ) async throws where Source.Element: Sendable {
        for try await element in source {
            try Task.checkCancellation()
            try await writer.write(transform(element))
        }
    }
}

/// Tells streaming calls that the server is draining: once ``drain()`` is called, every
/// stream of the services that share it ends with `UNAVAILABLE`.
public final class DrainSignal: Sendable {
    private struct State {
        var drained = false
        var nextWaiter = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    /// A signal that has not fired.
    public init() {}

    /// Ends every stream now and every stream opened afterwards.
    public func drain() {
        let waiters = state.withLock { state in
            state.drained = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Whether ``drain()`` was called.
    public var isDrained: Bool { state.withLock { $0.drained } }

    /// Returns once ``drain()`` is called, or at once when the task is cancelled.
    func wait() async {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.drained || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}
