import ArgumentParser
import SessionStore
import UnixSignals

/// Runs a command that goes on until it is stopped (`top`, `watch`, a `--follow`) on the
/// store named by `options`, and makes Ctrl-C and SIGTERM a clean stop rather than a
/// crash: the signal cancels `body`, the store closes (its instance row goes with it, so
/// the next command records no recovery), and the command exits 130 for SIGINT, as shells
/// expect of an interrupted command, and 0 for SIGTERM.
func withStoreUntilStopped(
    _ options: GlobalOptions, _ body: @escaping @Sendable (SessionStore) async throws -> Void
) async throws {
    let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
    let stoppedBy = try await withThrowingTaskGroup(of: UnixSignal?.self) { group in
        group.addTask {
            try await withStore(options, body)
            return nil
        }
        group.addTask {
            for await signal in signals { return signal }
            return nil
        }
        // The first to end decides; the other is cancelled and awaited, so the store is
        // closed before the command exits. A failure of `body` propagates.
        defer { group.cancelAll() }
        return try await group.next() ?? nil
    }
    if stoppedBy == .sigint { throw ExitCode(130) }
}
