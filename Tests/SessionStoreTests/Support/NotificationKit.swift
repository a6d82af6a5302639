import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

/// Helpers of the `Notification*Tests` files.
enum NotificationKit {
    /// The first `count` elements of `sequence`, collected in a child task raced against
    /// `limit`; `nil` when they did not all arrive in time (the collector is then
    /// cancelled). Only a guard against hanging: no test asserts on durations. Generous,
    /// because on a two-core machine running the whole suite, tests that block a thread
    /// can hold the cooperative pool the stream's tasks need for seconds.
    static func first<S: AsyncSequence & Sendable>(
        _ count: Int, of sequence: S, within limit: Duration = .seconds(30)
    ) async throws -> [S.Element]? where S.Element: Sendable {
        try await withThrowingTaskGroup(of: [S.Element]?.self) { group in
            group.addTask {
                var collected: [S.Element] = []
                guard count > 0 else { return collected }
                for try await element in sequence {
                    collected.append(element)
                    if collected.count == count { return collected }
                }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }

    /// Starts collecting now, in a child task, so the elements are delivered live.
    static func collect<S: AsyncSequence & Sendable>(
        _ count: Int, of sequence: S, within limit: Duration = .seconds(30)
    ) -> Task<[S.Element]?, any Error> where S.Element: Sendable {
        Task { try await first(count, of: sequence, within: limit) }
    }
}
