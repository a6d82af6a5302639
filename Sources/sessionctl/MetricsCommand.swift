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
            Output.printText(PrometheusText.text(snapshot))
        }
    }
}
