import Foundation

/// Another process that has the store open, as its `instances` row says: what
/// `sessionctl status` and `top` show of who serves the file.
package struct StoreInstance: Sendable, Hashable {
    /// The host the process runs on.
    package let host: String
    /// Its process id on that host.
    package let pid: Int64
    /// Whether it runs the sweeper: `sessionctl serve`, or a service running ``ExpirySweeper``.
    package let serving: Bool
    /// When it opened the store.
    package let startedAt: Timestamp
    /// When it last said it was alive: its open, each sweep pass, each heartbeat.
    package let lastHeartbeat: Timestamp
}

extension SessionStore {
    /// The processes other than this one that have the store open, oldest first. One that
    /// recovery would take for dead (its pid gone on this host, or silent for
    /// `instance-timeout` elsewhere) is left out: its row stays only until the next open.
    package func otherInstances() async throws -> [StoreInstance] {
        let (instanceId, timeout) = (self.instanceId, configuration.instanceTimeoutMs)
        return try await read { db in
            let now = db.now
            let host = InstanceRow.currentHost
            return try db.instances.others(than: instanceId)
                .filter { !Recovery.isGone($0, now: now, timeout: timeout, host: host) }
                .map {
                    StoreInstance(
                        host: $0.host, pid: $0.pid, serving: $0.serving, startedAt: Timestamp(milliseconds: $0.startedAt),
                        lastHeartbeat: Timestamp(milliseconds: $0.heartbeatAt))
                }
        }
    }
}
