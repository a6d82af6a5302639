import ArgumentParser
import Prometheus
import SessionStore

struct MetricsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Print the store's metrics in the Prometheus text format.",
        discussion: """
            The figures are read from the file (see MetricsSnapshot), so they are the same whichever \
            process made the changes. A linked service publishes the same gauges by bootstrapping \
            swift-metrics with a PrometheusMetricsFactory and running the sweeper.
            """)

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let registry = PrometheusCollectorRegistry()
        var configuration = try global.makeConfiguration()
        configuration.metricsFactory = PrometheusMetricsFactory(registry: registry)
        let snapshot = try await withStore(global, configuration: configuration) { try await $0.recordMetricsSnapshot() }
        if global.json {
            try global.output.printJSON(snapshot)
        } else {
            print(registry.emitToString(), terminator: "")
        }
    }
}
