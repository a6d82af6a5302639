import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SessionStore
import SessionStoreGRPC
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `serve --metrics`: a real `serve` scraped over HTTP shows the file's figures (as
/// `sessionctl metrics` prints them) and the process's own gRPC and store metrics, refuses
/// what is not `GET /metrics`, and stops with the rest of serve on SIGTERM.
@Suite struct ServeMetricsTests {
    @Test func aScrapeShowsTheFilesSessionsAndTheGRPCCallsMade() async throws {
        let db = CLIDatabase()
        let serve = try await SpawnedSessionctl([
            "serve", "--db", db.path, "--listen", "127.0.0.1:0", "--metrics", "127.0.0.1:0",
        ])
        let ports = try await Self.ports(of: serve)

        // Two sessions opened by other processes: the file's figures show them.
        let first = try await db.object(["open", "--user", "ada", "--session-id", "s1", "--data-source", "scrape"])
        _ = try await db.object(["open", "--user", "ada", "--session-id", "s2", "--data-source", "scrape"])
        let key = try #require(first["key"] as? String, "no key in \(first)")

        // One gRPC call to serve, counted by serve's own metrics.
        try await withGRPCClient(
            transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: ports.grpc), transportSecurity: .plaintext)
        ) { client in
            var touch = Sessionstore_V1_TouchSessionRequest()
            touch.sessionKey = key
            let touched = try await Sessionstore_V1_SessionManagement.Client(wrapping: client).touchSession(touch)
            #expect(touched.live)
        }

        let scrape = try RawHTTP.exchange(port: ports.metrics, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(scrape.status == 200, "\(scrape.head)")
        #expect(scrape.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true, "\(scrape.head)")
        let exposition = try PrometheusExposition(scrape.body)
        #expect(exposition.value("sessionstore_sessions", ["state": "idle", "data_source": "scrape"]) == 2, "\(scrape.body)")
        let touches = exposition.value(
            "sessionstore_grpc_requests_total", ["method": "sessionstore.v1.SessionManagement/TouchSession", "status": "ok"])
        #expect((touches ?? 0) >= 1, "\(scrape.body)")
        // The store's own timers of serve's process: the touch went through serve's store.
        let timedTouches = exposition.value("sessionstore_operation_duration_seconds_count", ["operation": "touch"])
        #expect((timedTouches ?? 0) >= 1, "\(scrape.body)")
        // One family each (the sweeper's swift-metrics copies of the file's families are
        // left out); the process's families carry no help text through swift-metrics.
        let violations = exposition.violations.filter { !$0.hasPrefix("no HELP for ") }
        #expect(violations.isEmpty, "\(violations)")

        // The file's part is what `sessionctl metrics` prints: the same families, in order.
        let printed = try await db.run(["metrics"])
        #expect(printed.status == 0, "\(printed.stderr)")
        let printedFamilies = try PrometheusExposition(printed.stdout).families.map(\.name)
        #expect(printedFamilies.count > 5)
        #expect(Array(exposition.families.prefix(printedFamilies.count).map(\.name)) == printedFamilies)
        for family in exposition.families.prefix(printedFamilies.count) {
            #expect(family.help?.isEmpty == false, "\(family.name) has no help text")
        }

        let other = try RawHTTP.exchange(port: ports.metrics, "GET /other HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(other.status == 404, "\(other.head)")
        let post = try RawHTTP.exchange(port: ports.metrics, "POST /metrics HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n")
        #expect(post.status == 405, "\(post.head)")
        #expect(post.headers["allow"] == "GET", "\(post.head)")
        let padding = String(repeating: "a", count: 20_000)
        let huge = try RawHTTP.exchange(port: ports.metrics, "GET /metrics HTTP/1.1\r\nHost: localhost\r\nX-Padding: \(padding)\r\n\r\n")
        #expect(huge.status == 413, "\(huge.head)")

        // SIGTERM with the endpoint running: a clean stop, exit 0.
        await MultiProcessSweepTests.stop(serve, with: SIGTERM)
    }

    @Test func aNonLoopbackAddressNeedsInsecure() async throws {
        let db = CLIDatabase()
        let refused = try await db.run(["serve", "--metrics", "0.0.0.0:0"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("--metrics 0.0.0.0:0 is not a loopback address"), "\(refused.stderr)")
        #expect(refused.stderr.contains("--insecure"), "\(refused.stderr)")
        let malformed = try await db.run(["serve", "--metrics", "127.0.0.1:http"])
        #expect(malformed.status != 0)
        #expect(malformed.stderr.contains("--metrics takes HOST:PORT"), "\(malformed.stderr)")
    }

    /// The gRPC and metrics ports serve logged, once both are listening.
    static func ports(of serve: SpawnedSessionctl) async throws -> (grpc: Int, metrics: Int) {
        func port(_ key: String) -> Int? {
            let text = serve.stderrText()
            guard let range = text.range(of: "\(key)=") else { return nil }
            let address = text[range.upperBound...].prefix { !$0.isWhitespace }
            return address.split(separator: ":").last.flatMap { Int($0) }
        }
        let listening = await MultiProcessSweepTests.eventually(within: .seconds(60)) {
            port("grpc.address") != nil && port("metrics.address") != nil
        }
        try #require(listening, "serve did not log both addresses: \(serve.stderrText())")
        return (try #require(port("grpc.address")), try #require(port("metrics.address")))
    }
}

/// One HTTP/1.1 exchange over a plain loopback socket: the request as given, the response
/// read until the server closes the connection.
enum RawHTTP {
    struct Response {
        let status: Int
        /// Header names in lower case.
        let headers: [String: String]
        let body: String
        /// The status line and headers, for failure messages.
        let head: String
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func exchange(port: Int, _ request: String) throws -> Response {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        defer { close(fd) }
        // A guard against a hang, not a measurement.
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "connect to port \(port): errno \(errno)") }
        let bytes = Array(request.utf8)
        var sent = 0
        while sent < bytes.count {
            let written = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            // The server may answer (413) and close before reading everything.
            guard written > 0 else { break }
            sent += written
        }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received += chunk[..<count]
            } else if count == 0 || errno != EINTR {
                break
            }
        }
        return try parse(String(decoding: received, as: UTF8.self))
    }

    static func parse(_ text: String) throws -> Response {
        guard let split = text.range(of: "\r\n\r\n") else { throw Failure(description: "no complete response head: \(text.prefix(500))") }
        let head = String(text[..<split.lowerBound])
        let lines = head.components(separatedBy: "\r\n")
        let statusParts = lines.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw Failure(description: "bad status line: \(head)") }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Response(status: status, headers: headers, body: String(text[split.upperBound...]), head: head)
    }
}
