import Foundation

/// The instances (processes) that have the store open: heartbeats, serving, and the
/// liveness check that finds a dead instance while the others run.
extension SessionStore {
    /// Marks this process as serving: its sweeper runs. A clean stop of the last serving
    /// process recorded since this store opened is re-armed now.
    package func beginServing() async throws(SessionStoreError) {
        let (instanceId, mode, tick) = (self.instanceId, configuration.recoveryMode, configuration.tickMs)
        try await write { db in try Recovery.beginServing(db, instance: instanceId, mode: mode, tick: tick, at: db.now) }
        isServing.mutex.withLock { $0 = true }
    }

    /// Marks this process as no longer serving; when it was the last, records the stop.
    package func endServing() async throws(SessionStoreError) {
        let instanceId = self.instanceId
        isServing.mutex.withLock { $0 = false }
        try await write { db in try Recovery.endServing(db, instance: instanceId, at: db.now) }
    }

    /// Records this process's heartbeat, so other processes know it is alive; registers
    /// it again when another took it for dead.
    package func heartbeat() async throws(SessionStoreError) {
        let (instanceId, host, serving) = (self.instanceId, configuration.hostIdentity, isServing.mutex.withLock { $0 })
        if try await write({ db in try Recovery.heartbeat(db, instance: instanceId, host: host, serving: serving, at: db.now) }) {
            logRejoin()
        }
    }

    func logRejoin() {
        logger.warning(
            "this instance was taken for dead and its work recovered by another; registered again",
            metadata: ["instance.id": "\(instanceId)", "instance.host": "\(configuration.hostIdentity)"])
    }

    /// Finds instances that died while this one runs and finishes their work, as an open
    /// does: running executions failed or detached, sessions stuck closing ended, one
    /// `store.recovered` event naming each dead instance and its host. Of several live
    /// instances checking at once, one recovers each dead instance. `nil` when none was
    /// found dead. The check is one read; only an instance that looks dead costs a write.
    @discardableResult
    package func recoverGoneInstances() async throws(SessionStoreError) -> RecoveryReport? {
        let (instanceId, host, timeout) = (self.instanceId, configuration.hostIdentity, configuration.instanceTimeoutMs)
        guard try await read({ db in try Recovery.anyGone(db, instance: instanceId, host: host, instanceTimeout: timeout, at: db.now) })
        else { return nil }
        return try await recoverDeadInstances()
    }

    /// The write of ``recoverGoneInstances()``, once a read found an instance that looks
    /// dead: the sweeper's pass makes that read with its time (``passState()``).
    @discardableResult
    package func recoverDeadInstances() async throws(SessionStoreError) -> RecoveryReport? {
        let (instanceId, host) = (self.instanceId, configuration.hostIdentity)
        let (mode, timeout, tick) = (configuration.recoveryMode, configuration.instanceTimeoutMs, configuration.expiry.tick)
        let recovered = try await write { db in
            try Recovery.run(db, instance: instanceId, host: host, mode: mode, instanceTimeout: timeout, tick: tick, at: db.now)
        }
        guard let (report, ended) = recovered else { return nil }
        logger.warning(
            "recovered the work of dead instances",
            metadata: [
                "recovery.dead_instances": "\(report.instances.map { "\($0.id)@\($0.host):\($0.pid)" }.joined(separator: ","))",
                "recovery.failed_executions": "\(report.failedExecutions)",
                "recovery.detached_executions": "\(report.detachedExecutions)",
                "recovery.ended_sessions": "\(report.endedSessions)",
            ])
        for session in ended {
            didEnd(session)
        }
        return report
    }

    /// Records the heartbeat every ``SessionStoreConfiguration/heartbeatInterval`` until
    /// ``close()``, so that other hosts never take an idle open store for dead; started on
    /// a backend that hosts share (``StorageBackend/sharedAcrossHosts``). Like a connection
    /// pool's keep-alive, it holds the store weakly and writes one row.
    func startKeepalive() {
        let interval = configuration.heartbeatInterval
        let task = Task { [weak self] in
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
                guard let store = self else { return }
                do throws(SessionStoreError) {
                    try await store.heartbeat()
                } catch {
                    if error.code == .storageClosed { return }
                    store.logger.warning("could not record the heartbeat", metadata: ["error.code": "\(error.code)"])
                }
            }
        }
        keepalive.mutex.withLock { $0 = task }
    }
}
