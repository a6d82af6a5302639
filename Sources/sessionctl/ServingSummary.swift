import Foundation
import SessionStore

/// Whether any process serves the file (runs the sweeper), for the first line of `status`
/// and `top`: without one, sessions whose expiry passed read as expired but nothing ends
/// them or releases what they own.
struct ServingSummary: Encodable {
    /// Another process that has the store open; the command's own process is not listed.
    struct Instance: Encodable {
        let id: Int64
        let host: String
        let pid: Int64
        /// Whether it runs the sweeper.
        let serving: Bool
        /// Its last heartbeat, on the store's clock (the database's on PostgreSQL).
        let lastHeartbeat: Timestamp
        /// False when it is taken for dead: a serving process recovers its work.
        let alive: Bool
        /// True when this command's own open found it dead and recovered its work.
        let recovered: Bool
    }

    let serving: Bool
    let instances: [Instance]
    /// The time since the last sweep pass of any process; absent before the first.
    let sweeperLagMs: Int64?
    /// When this was read, for the ages of the text form.
    private let now: Int64

    private enum CodingKeys: String, CodingKey {
        case serving, instances, sweeperLagMs
    }

    /// Every field, `sweeperLagMs` as null before the first pass.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(serving, forKey: .serving)
        try container.encode(instances, forKey: .instances)
        try container.encode(sweeperLagMs, forKey: .sweeperLagMs)
    }

    /// Reads the other instances and the sweeper's last pass from `store`.
    static func read(_ store: SessionStore, snapshot: MetricsSnapshot) async throws -> ServingSummary {
        let (now, others) = try await store.otherInstances()
        // An open recovers the instances it finds dead: those of this command's own open
        // are listed too, as the operator came to see them.
        let recoveredNow = (store.recovery?.instances ?? []).map {
            Instance(id: $0.id, host: $0.host, pid: $0.pid, serving: $0.serving, lastHeartbeat: $0.lastHeartbeat, alive: false, recovered: true)
        }
        return ServingSummary(
            serving: others.contains { $0.serving && $0.alive },
            instances: (recoveredNow + others.map {
                Instance(
                    id: $0.id, host: $0.host, pid: $0.pid, serving: $0.serving, lastHeartbeat: $0.lastHeartbeat, alive: $0.alive,
                    recovered: false)
            }).sorted { $0.id < $1.id },
            sweeperLagMs: snapshot.sweeperLag?.wholeMilliseconds, now: now.milliseconds)
    }

    /// `serving: yes — 1 instance (host H, pid P, heartbeat 0.4 s ago), sweeper last pass 0.8 s ago`,
    /// or `serving: no — ...` saying what that means.
    var line: String {
        let lastPass = sweeperLagMs.map { "sweeper last pass \(Self.seconds($0)) ago" } ?? "no sweeper pass yet"
        guard serving else {
            return "serving: no — no process is running the sweeper; expired sessions are not ended until one does"
                + " (sessionctl serve), \(lastPass)"
        }
        let servers = instances.filter { $0.serving && $0.alive }
        let described = servers.map {
            "host \($0.host), pid \($0.pid), heartbeat \(Self.seconds(now - $0.lastHeartbeat.milliseconds)) ago"
        }
        let count = servers.count == 1 ? "1 instance" : "\(servers.count) instances"
        return "serving: yes — \(count) (\(described.joined(separator: "; "))), \(lastPass)"
    }

    /// One line per other instance, live or dead: `  instance 3: host H, pid P, sweeping,
    /// last heartbeat 2026-12-07T06:55:45.055Z (0.4 s ago), alive`; the heartbeat is on the
    /// store's clock (the database's on PostgreSQL).
    var instanceLines: [String] {
        instances.map { instance in
            let state =
                instance.alive
                ? "alive" : instance.recovered ? "dead (its work recovered by this command's open)" : "dead (the next serving pass recovers its work)"
            return "  instance \(instance.id): host \(instance.host), pid \(instance.pid), "
                + "\(instance.serving ? "sweeping" : "not sweeping"), last heartbeat \(instance.lastHeartbeat.iso8601) "
                + "(\(Self.seconds(now - instance.lastHeartbeat.milliseconds)) ago), \(state)"
        }
    }

    /// `0.4 s`: seconds with one decimal.
    private static func seconds(_ milliseconds: Int64) -> String {
        String(format: "%.1f s", Double(max(0, milliseconds)) / 1000)
    }
}
