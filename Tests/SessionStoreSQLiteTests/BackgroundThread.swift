import Foundation

/// Runs a closure on a Foundation `Thread` of its own, outside Swift's cooperative pool,
/// so it may block in SQLite (a busy handler, a lock) without starving other tests.
final class BackgroundThread<Value: Sendable>: Sendable {
    private let outcome = LockedValue<Result<Value, any Error>?>(nil)
    private let finished = DispatchSemaphore(value: 0)

    init(_ body: @escaping @Sendable () throws -> Value) {
        let thread = Thread { [outcome, finished] in
            let result = Result { try body() }
            outcome.update { $0 = result }
            finished.signal()
        }
        thread.start()
    }

    /// The closure's outcome once it has returned, or nil if it did not within `timeout`.
    func join(timeout: DispatchTimeInterval = .seconds(10)) -> Result<Value, any Error>? {
        guard finished.wait(timeout: .now() + timeout) == .success else { return nil }
        return outcome.value
    }
}
