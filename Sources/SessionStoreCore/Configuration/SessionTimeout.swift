import Foundation

/// How long a session may go without access before it expires.
///
/// Encodes as the timeout in whole milliseconds, or `null` for ``never``.
public enum SessionTimeout: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The session never expires; it ends only when closed.
    case never
    /// The session expires this long after its last access (rounded up to the tick;
    /// kept in whole milliseconds).
    case after(Duration)

    /// The timeout in whole milliseconds, saturating; `nil` for ``never``.
    var milliseconds: Int64? {
        if case .after(let duration) = self { return duration.wholeMilliseconds }
        return nil
    }

    /// `never`, or the duration as `DurationText` writes it (`30s`, `5m`).
    public var description: String {
        switch self {
        case .never: "never"
        case .after(let duration): DurationText.format(milliseconds: duration.wholeMilliseconds)
        }
    }

    /// Reads whole milliseconds, or `null` for ``never``.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        self = container.decodeNil() ? .never : .after(.milliseconds(try container.decode(Int64.self)))
    }

    /// Writes whole milliseconds, or `null` for ``never``.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let milliseconds { try container.encode(milliseconds) } else { try container.encodeNil() }
    }
}

extension Duration {
    /// Whole milliseconds (truncated toward zero), saturating at the bounds of `Int64`
    /// instead of overflowing.
    package var wholeMilliseconds: Int64 {
        if self >= .milliseconds(Int64.max) { return .max }
        if self <= .milliseconds(Int64.min) { return .min }
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// Whole milliseconds of a duration the caller gave: where the public API's
    /// `Duration` becomes the milliseconds the store keeps.
    ///
    /// - Throws: `INVALID_ARGUMENT.<field>` naming `name` when the duration is negative
    ///   or does not fit in `Int64` milliseconds.
    func milliseconds(field: SessionStoreError.Code, name: String) throws(SessionStoreError) -> Int64 {
        guard self >= .zero else {
            throw SessionStoreError.invalidArgument(field, "\(name) must not be negative (got \(self))")
        }
        guard self <= .milliseconds(Int64.max) else {
            throw SessionStoreError.invalidArgument(field, "\(name) must be at most \(Int64.max) ms (got \(self))")
        }
        return wholeMilliseconds
    }
}

/// Parses and prints durations as people write them: `250ms`, `30s`, `5m`, `2h`, `7d`.
package enum DurationText {
    /// Milliseconds for text such as `30s`; `nil` when it is not one. A bare number is
    /// seconds. Overflow and negative numbers are `nil`.
    package static func parse(milliseconds text: String) -> Int64? {
        let units: [(suffix: String, factor: Int64)] = [
            ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
        ]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for unit in units where trimmed.hasSuffix(unit.suffix) {
            let number = trimmed.dropLast(unit.suffix.count)
            guard let value = Int64(number), value >= 0 else { return nil }
            let (result, overflow) = value.multipliedReportingOverflow(by: unit.factor)
            return overflow ? nil : result
        }
        guard let seconds = Int64(trimmed), seconds >= 0 else { return nil }
        let (result, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        return overflow ? nil : result
    }

    /// The shortest exact text for `milliseconds`: `1500ms`, `30s`, `5m`.
    package static func format(milliseconds: Int64) -> String {
        for (suffix, factor) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000)]
        where milliseconds != 0 && milliseconds % factor == 0 {
            return "\(milliseconds / factor)\(suffix)"
        }
        return "\(milliseconds)ms"
    }
}
