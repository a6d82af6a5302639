/// The execution instruments:
/// - `sessionstore_executions_created_total` (counter);
/// - `sessionstore_execution_status_total` (counter; `status`): status changes made here;
/// - `sessionstore_execution_queued_seconds` and `sessionstore_execution_run_seconds`
///   (timers): from creation to start, and from start to end.
struct ExecutionMetrics: Sendable {
    let metrics: StoreMetrics

    func created() {
        metrics.counter("sessionstore_executions_created_total").increment()
    }

    func moved(_ execution: Execution) {
        metrics.counter("sessionstore_execution_status_total", [("status", execution.status.rawValue)]).increment()
        if execution.status == .started, let queued = execution.queuedTime {
            metrics.timer("sessionstore_execution_queued_seconds").recordMilliseconds(queued.wholeMilliseconds)
        }
        if execution.status.isTerminal, let run = execution.runTime {
            metrics.timer("sessionstore_execution_run_seconds").recordMilliseconds(run.wholeMilliseconds)
        }
    }
}

extension SessionStore {
    var executionMetrics: ExecutionMetrics { ExecutionMetrics(metrics: metrics) }
}
