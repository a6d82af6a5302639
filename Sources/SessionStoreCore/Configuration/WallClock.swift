import Foundation
import Synchronization

/// The source of wall-clock time for timestamps and expiry, in milliseconds since the
/// Unix epoch. Injected so tests move time forward instead of sleeping.
///
/// ```swift
/// let clock = ManualWallClock(now: 1_700_000_000_000)
/// let store = try await SessionStore.open(path: path, configuration: .init(clock: clock))
/// clock.advance(by: .seconds(60))
/// ```
public protocol WallClock: Sendable {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    func now() -> Int64
}

/// The system's real-time clock.
public struct SystemWallClock: WallClock {
    /// The system clock.
    public init() {}

    /// The real time (`CLOCK_REALTIME`) in milliseconds since the Unix epoch.
    public func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}

/// A clock that moves only when told to; for tests and simulations.
public final class ManualWallClock: WallClock {
    private let current: Mutex<Int64>

    /// A clock stopped at `now` milliseconds since the Unix epoch (2023-11-14 by
    /// default).
    public init(now: Int64 = 1_700_000_000_000) {
        current = Mutex(now)
    }

    /// The time it was last set to or advanced to, in milliseconds since the Unix epoch.
    public func now() -> Int64 {
        current.withLock { $0 }
    }

    /// Moves the clock forward (or back, with a negative amount) by whole milliseconds,
    /// saturating at the bounds of `Int64`.
    public func advance(by duration: Duration) {
        let milliseconds = duration.wholeMilliseconds
        current.withLock { now in
            let (sum, overflow) = now.addingReportingOverflow(milliseconds)
            now = overflow ? (milliseconds < 0 ? .min : .max) : sum
        }
    }

    /// Sets the clock to `milliseconds` since the epoch.
    public func set(_ milliseconds: Int64) {
        current.withLock { $0 = milliseconds }
    }
}
