import Foundation
import Testing

/// Hosts on this machine, each a network namespace of the test's own joined to this one by
/// a veth pair: `ip netns add`, `ip link add ... type veth`, addresses of the loopback range
/// (127.B.N.1 on this side, where the test's servers listen, and 127.B.N.2 inside host N;
/// `route_localnet` lets such addresses cross a link). A host's link can be cut and
/// restored. Needs iproute2 and root, as `.ci/install-deps` and CI give.
struct TestNetwork {
    struct Host {
        /// The host identity its processes register with.
        let name: String
        /// The network namespace.
        let namespace: String
        /// The veth end on this side, which `cut` takes down.
        let link: String
        /// The address of this side of the link: where the host reaches the server.
        let serverAddress: String
        /// The host's own address.
        let address: String

        /// Runs a program in the host: `ip netns exec NAMESPACE`.
        var launcher: [String] { [TestNetwork.ip, "netns", "exec", namespace] }
    }

    let hosts: [Host]

    static let ip = ["/usr/sbin/ip", "/sbin/ip", "/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "ip"

    /// Makes `count` hosts named `host1`, `host2`, ...
    static func make(hosts count: Int) async throws -> TestNetwork {
        try #require(getuid() == 0, "network namespaces need root")
        try #require(FileManager.default.isExecutableFile(atPath: ip), "no ip command: run .ci/install-deps (iproute2)")
        let pid = Int(getpid())
        let block = 100 + pid % 100
        var hosts: [Host] = []
        for index in 1...count {
            let host = Host(
                name: "host\(index)", namespace: "ss\(pid)n\(index)", link: "ss\(pid % 100_000)r\(index)",
                serverAddress: "127.\(block).\(index).1", address: "127.\(block).\(index).2")
            hosts.append(host)
            let inside = "ss\(pid % 100_000)h\(index)"
            try await run(["netns", "add", host.namespace])
            try await run(["link", "add", host.link, "type", "veth", "peer", "name", inside])
            try await run(["link", "set", inside, "netns", host.namespace])
            try await run(["addr", "add", "\(host.serverAddress)/24", "dev", host.link])
            try await run(["link", "set", host.link, "up"])
            try await run(["-n", host.namespace, "addr", "add", "\(host.address)/24", "dev", inside])
            try await run(["-n", host.namespace, "link", "set", inside, "up"])
            try await run(["-n", host.namespace, "link", "set", "lo", "up"])
            try "1".write(toFile: "/proc/sys/net/ipv4/conf/\(host.link)/route_localnet", atomically: false, encoding: .utf8)
            try await run(["netns", "exec", host.namespace, "/bin/sh", "-c", "echo 1 > /proc/sys/net/ipv4/conf/\(inside)/route_localnet"])
        }
        return TestNetwork(hosts: hosts)
    }

    /// Removes the namespaces, and with them the links.
    func remove() async {
        for host in hosts {
            _ = try? await Self.run(["netns", "delete", host.namespace])
        }
    }

    /// Takes the host's link down: its packets go nowhere until ``restore(_:)``.
    func cut(_ host: Host) async throws {
        try await Self.run(["link", "set", host.link, "down"])
    }

    func restore(_ host: Host) async throws {
        try await Self.run(["link", "set", host.link, "up"])
    }

    @discardableResult
    static func run(_ arguments: [String]) async throws -> CommandResult {
        let result = try await Command.run(ip, arguments)
        try #require(result.status == 0, "ip \(arguments.joined(separator: " ")): \(result.stderr)")
        return result
    }
}
