import Foundation

/// The Prometheus text exposition format (version 0.0.4) of metric families: what
/// `sessionctl metrics` prints, `serve --metrics` serves first, and the web view's
/// `/metrics` serves.
package enum PrometheusText {
    /// The file's figures.
    package static func text(_ snapshot: MetricsSnapshot) -> String {
        text(snapshot.families)
    }

    package static func text(_ families: [MetricFamily]) -> String {
        var text = ""
        for family in families {
            text += "# HELP \(family.name) \(escapeHelp(family.help))\n"
            text += "# TYPE \(family.name) \(family.type.rawValue)\n"
            for sample in family.samples {
                text += family.name
                if !sample.labels.isEmpty {
                    let labels = sample.labels.map { "\($0.name)=\"\(escapeLabelValue($0.value))\"" }
                    text += "{\(labels.joined(separator: ","))}"
                }
                text += " \(number(sample.value))\n"
            }
        }
        return text
    }

    /// Whole numbers without a fraction, as counts are read.
    private static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 9_007_199_254_740_992 { return String(Int64(value)) }
        return String(value)
    }

    /// HELP text escapes backslash and line feed.
    private static func escapeHelp(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// A label value escapes backslash, double quote and line feed.
    private static func escapeLabelValue(_ text: String) -> String {
        escapeHelp(text).replacingOccurrences(of: "\"", with: "\\\"")
    }
}
