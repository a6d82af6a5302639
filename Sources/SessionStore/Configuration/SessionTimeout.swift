import Foundation

/// How long a session may go without access before it expires.
public enum SessionTimeout: Sendable, Hashable, CustomStringConvertible {
    /// The session never expires; it ends only when closed.
    case never
    /// The session expires this many milliseconds after its last access (rounded up to
    /// the tick).
    case milliseconds(Int64)

    /// A timeout of `duration`, truncated to whole milliseconds.
    public static func after(_ duration: Duration) -> SessionTimeout {
        .milliseconds(duration.wholeMilliseconds)
    }

    /// The timeout in milliseconds; `nil` for ``never``.
    public var milliseconds: Int64? {
        if case .milliseconds(let value) = self { return value }
        return nil
    }

    /// `never`, or the duration as `DurationText` writes it (`30s`, `5m`).
    public var description: String {
        switch self {
        case .never: "never"
        case .milliseconds(let value): DurationText.format(milliseconds: value)
        }
    }
}

extension Duration {
    /// Whole milliseconds, saturating instead of overflowing.
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, overflowSum) = product.addingReportingOverflow(attoseconds / 1_000_000_000_000_000)
        return overflowSum ? .max : sum
    }
}

/// Parses and prints durations as people write them: `250ms`, `30s`, `5m`, `2h`, `7d`.
public enum DurationText {
    /// Milliseconds for text such as `30s`; `nil` when it is not one. A bare number is
    /// seconds. Overflow and negative numbers are `nil`.
    public static func parse(milliseconds text: String) -> Int64? {
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
    public static func format(milliseconds: Int64) -> String {
        for (suffix, factor) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000)]
        where milliseconds != 0 && milliseconds % factor == 0 {
            return "\(milliseconds / factor)\(suffix)"
        }
        return "\(milliseconds)ms"
    }
}
