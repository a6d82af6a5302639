import Metrics

/// The session instruments:
/// - `sessionstore_sessions` (gauge; `state`, `data_source`): live sessions, as the file
///   holds them after this process's last change to that data source;
/// - `sessionstore_sessions_opened_total` (counter; `data_source`);
/// - `sessionstore_sessions_ended_total` (counter; `state`: closed, expired, failed);
/// - `sessionstore_refusals_total` (counter; `code`: the refusal's error code).
struct SessionMetrics: Sendable {
    let metrics: StoreMetrics

    func opened(_ session: Session, counts: StateCounts) {
        metrics.counter("sessionstore_sessions_opened_total", [("data_source", session.dataSource)]).increment()
        record(counts)
    }

    func ended(_ state: SessionState, counts: StateCounts?) {
        metrics.counter("sessionstore_sessions_ended_total", [("state", state.rawValue)]).increment()
        if let counts { record(counts) }
    }

    func refused(code: String) {
        metrics.counter("sessionstore_refusals_total", [("code", code)]).increment()
    }

    func record(_ counts: StateCounts) {
        for (state, count) in counts.counts {
            metrics.gauge("sessionstore_sessions", [("state", state.rawValue), ("data_source", counts.dataSource)])
                .record(count)
        }
    }
}

extension SessionStore {
    var sessionMetrics: SessionMetrics { SessionMetrics(metrics: metrics) }
}
