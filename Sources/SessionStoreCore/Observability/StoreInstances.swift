import Foundation

/// Another process that has the store open, as its `instances` row says: what
/// `sessionctl status` and `top` show of who serves the store.
package struct StoreInstance: Sendable, Hashable {
    /// Its row id in `instances`.
    package let id: Int64
    /// The host identity it registered with.
    package let host: String
    /// Its process id on that host.
    package let pid: Int64
    /// Whether it runs the sweeper: `sessionctl serve`, or a service running ``ExpirySweeper``.
    package let serving: Bool
    /// When it opened the store.
    package let startedAt: Timestamp
    /// When it last said it was alive, on the store's clock (the database's on PostgreSQL).
    package let lastHeartbeat: Timestamp
    /// False when recovery would take it for dead (its pid gone on this host, or silent
    /// for `instance-timeout` elsewhere): its row stays until a live instance recovers it.
    package let alive: Bool
}

extension SessionStore {
    /// The processes other than this one that have the store open, oldest first, live and
    /// dead, with the store's time of the read (the database's on PostgreSQL).
    package func otherInstances() async throws -> (now: Timestamp, instances: [StoreInstance]) {
        let (instanceId, timeout, host) = (self.instanceId, configuration.instanceTimeoutMs, configuration.hostIdentity)
        return try await read { db in
            let now = db.now
            let instances = try db.instances.all().filter { $0.id != instanceId }.map {
                StoreInstance(
                    id: $0.id, host: $0.host, pid: $0.pid, serving: $0.serving, startedAt: Timestamp(milliseconds: $0.startedAt),
                    lastHeartbeat: Timestamp(milliseconds: $0.heartbeatAt),
                    alive: !Recovery.isGone($0, now: now, timeout: timeout, host: host))
            }
            return (Timestamp(milliseconds: now), instances)
        }
    }
}
