/// How many rows a pass acted on, with the keys of the first of them.
///
/// A sweep that expires a million sessions reports the million in ``count`` but holds
/// only the first ``limit`` keys, so its memory stays flat however much was due. Every
/// one is in the event log (`session.ended`, `execution.abandoned`, ...).
///
/// ```swift
/// let report = try await store.sweep()
/// print("expired \(report.expiredSessions.count)")
/// for key in report.expiredSessions.keys { print(key) }
/// if !report.expiredSessions.isComplete { print("... and more in the event log") }
/// ```
public struct KeySample: Sendable, Hashable, Codable {
    /// The most keys a sample keeps.
    public static let limit = 1_000

    /// How many there were.
    public private(set) var count = 0
    /// The first of them, in the order they were met: all of them while ``count`` is at
    /// most ``limit``.
    public private(set) var keys: [String] = []

    /// None.
    init() {}

    /// True when there were none.
    public var isEmpty: Bool { count == 0 }

    /// True when ``keys`` holds every one counted.
    public var isComplete: Bool { keys.count == count }

    /// Counts `newKeys` and keeps as many of them as the limit leaves room for.
    mutating func append(contentsOf newKeys: some Collection<String>) {
        count += newKeys.count
        keys.append(contentsOf: newKeys.prefix(max(0, Self.limit - keys.count)))
    }

    /// Counts what `other` counted and keeps as many of its keys as the limit leaves room
    /// for.
    mutating func append(_ other: KeySample) {
        count += other.count
        keys.append(contentsOf: other.keys.prefix(max(0, Self.limit - keys.count)))
    }
}
