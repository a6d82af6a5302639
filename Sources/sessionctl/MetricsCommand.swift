import ArgumentParser
import Foundation
import SessionStore

struct MetricsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Print the store's metrics in the Prometheus text format.",
        discussion: """
            The figures are read from the file (see MetricsSnapshot), so they are the same whichever \
            process made the changes: gauges of live sessions and running executions and of the \
            sweeper's lag, and counters (sessionstore_file_..._total) of the file's all-time totals. \
            Every family has # HELP and # TYPE lines and comes in the same order every time. A \
            linked service publishes the same families through swift-metrics by running the sweeper, \
            besides its own counters and the latency of open, touch, close and sweep \
            (sessionstore_operation_duration_seconds).
            """)

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let snapshot = try await withStore(global) { try await $0.metricsSnapshot() }
        if global.json {
            try global.output.printJSON(snapshot)
        } else {
            Output.printText(PrometheusExposition.text(snapshot))
        }
    }
}

/// The Prometheus text exposition format (version 0.0.4) of metric families.
enum PrometheusExposition {
    /// The file's figures: what `sessionctl metrics` prints and `serve --metrics` serves first.
    static func text(_ snapshot: MetricsSnapshot) -> String {
        text(snapshot.families)
    }

    static func text(_ families: [MetricFamily]) -> String {
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
