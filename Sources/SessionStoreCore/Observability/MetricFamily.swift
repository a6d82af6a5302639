/// One metric family of a ``MetricsSnapshot``: its name, type, help text and samples,
/// for exporters that print what swift-metrics does not carry (help and type), such as
/// `sessionctl metrics`.
package struct MetricFamily: Sendable, Hashable {
    /// How a family's samples behave.
    package enum MetricType: String, Sendable {
        /// A total that only grows; its name ends in `_total`.
        case counter
        /// A value that goes up and down.
        case gauge
    }

    /// One label of a sample.
    package struct Label: Sendable, Hashable {
        package var name: String
        package var value: String
    }

    /// One sample: its labels, in the family's order, and its value.
    package struct Sample: Sendable, Hashable {
        package var labels: [Label]
        package var value: Double
    }

    package var name: String
    package var type: MetricType
    package var help: String
    package var samples: [Sample]

    init(_ name: String, _ type: MetricType, help: String, samples: [Sample]) {
        self.name = name
        self.type = type
        self.help = help
        self.samples = samples
    }
}

extension MetricsSnapshot {
    /// The snapshot as metric families, always the same families in the same order (a
    /// family may have no sample: no refusal yet, no sweep pass yet); the samples of a
    /// family are sorted by their label values (sessions by data source, then state).
    package var families: [MetricFamily] {
        func samples(_ totals: [Total], label: String) -> [MetricFamily.Sample] {
            totals.map { MetricFamily.Sample(labels: [MetricFamily.Label(name: label, value: $0.label)], value: Double($0.total)) }
        }
        func seconds(_ duration: Duration?) -> [MetricFamily.Sample] {
            duration.map { [MetricFamily.Sample(labels: [], value: Double($0.wholeMilliseconds) / 1000)] } ?? []
        }
        let sessionSamples = sessions.map { count in
            MetricFamily.Sample(
                labels: [
                    MetricFamily.Label(name: "state", value: count.state.rawValue),
                    MetricFamily.Label(name: "data_source", value: count.dataSource),
                ],
                value: Double(count.count))
        }
        return [
            MetricFamily(
                "sessionstore_sessions", .gauge, help: "Live sessions in the file, by state and data source.",
                samples: sessionSamples),
            MetricFamily(
                "sessionstore_executions_running", .gauge, help: "Running executions in the file, by status.",
                samples: samples(runningExecutions, label: "status")),
            MetricFamily(
                "sessionstore_file_sessions_opened_total", .counter,
                help: "Sessions opened in the file by any process, all time.",
                samples: [MetricFamily.Sample(labels: [], value: Double(opened))]),
            MetricFamily(
                "sessionstore_file_sessions_ended_total", .counter,
                help: "Sessions ended in the file by any process, all time, by end state.",
                samples: samples(ended, label: "state")),
            MetricFamily(
                "sessionstore_file_session_refusals_total", .counter,
                help: "Session opens refused in the file by any process, all time, by error code.",
                samples: samples(refusals, label: "code")),
            MetricFamily(
                "sessionstore_file_execution_transitions_total", .counter,
                help: "Executions moved to each status in the file by any process, all time.",
                samples: samples(executionTransitions, label: "status")),
            MetricFamily(
                "sessionstore_sweeper_lag_seconds", .gauge,
                help: "Seconds since the last sweep pass of any process on the file.",
                samples: seconds(sweeperLag)),
            MetricFamily(
                "sessionstore_sweeper_pass_seconds", .gauge, help: "How long the last sweep pass took, in seconds.",
                samples: seconds(sweeperPassDuration)),
        ]
    }
}
