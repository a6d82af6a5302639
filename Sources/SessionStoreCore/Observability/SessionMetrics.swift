import Metrics

/// The session instruments recorded as changes commit (the gauges of the file's state,
/// `sessionstore_sessions` among them, come from ``SessionStore/recordMetricsSnapshot()``):
/// - `sessionstore_sessions_opened_total` (counter; `data_source`);
/// - `sessionstore_sessions_ended_total` (counter; `state`: closed, expired, failed);
/// - `sessionstore_refusals_total` (counter; `code`: the refusal's error code).
struct SessionMetrics: Sendable {
    let metrics: StoreMetrics

    func opened(_ session: Session) {
        metrics.counter("sessionstore_sessions_opened_total", [("data_source", session.dataSource)]).increment()
    }

    func ended(_ state: SessionState) {
        metrics.counter("sessionstore_sessions_ended_total", [("state", state.rawValue)]).increment()
    }

    func refused(code: SessionStoreError.Code) {
        metrics.counter("sessionstore_refusals_total", [("code", code.rawValue)]).increment()
    }
}

extension SessionStore {
    var sessionMetrics: SessionMetrics { SessionMetrics(metrics: metrics) }
}
