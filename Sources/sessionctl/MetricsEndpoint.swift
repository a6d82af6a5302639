import ArgumentParser
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle
import SessionStore
import Synchronization

/// `serve --metrics`: `GET /metrics` over plain HTTP/1.1, answering with the file's
/// figures (what `sessionctl metrics` prints) followed by the process's own swift-metrics.
///
/// Deliberately small: one request per connection (closed after the response), only
/// `GET /metrics` (404 for other paths, 405 for other methods), a cap on the bytes a
/// request may take, on the connections open at once, and on how long a connection
/// lives. Runs in serve's service group, so SIGTERM closes it with the rest.
struct MetricsEndpoint: Service {
    /// The most bytes a connection may send: a scraper's request line and headers fit many
    /// times over.
    static let maxRequestBytes = 16 * 1024
    /// The most connections open at once; one past it is closed as it arrives.
    static let maxConnections = 32
    /// The time a connection has to send its request and take the response.
    static let connectionTimeout = TimeAmount.seconds(10)
    /// The exposition's content type (Prometheus text format 0.0.4).
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    let host: String
    let port: Int
    let logger: Logger
    /// The body of a `GET /metrics`.
    let exposition: @Sendable () async throws -> String

    func run() async throws {
        let slots = ConnectionSlots(limit: Self.maxConnections)
        let exposition = self.exposition
        let logger = self.logger
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                guard slots.take() else { return channel.eventLoop.makeFailedFuture(TooManyConnections()) }
                channel.closeFuture.whenComplete { _ in slots.release() }
                return channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    // Ahead of the decoder, so the limit counts raw bytes, headers included.
                    try pipeline.addHandler(RequestSizeLimit(bytes: Self.maxRequestBytes))
                    try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: true)
                    try pipeline.addHandler(
                        MetricsRequestHandler(exposition: exposition, timeout: Self.connectionTimeout, logger: logger))
                }
            }
            .bind(host: host, port: port).get()
        // The bound port (the one the system chose for port 0), as `listening` logs gRPC's.
        let address = Self.display(host: host, port: channel.localAddress?.port ?? port)
        logger.info("metrics listening", metadata: ["metrics.address": "\(address)"])
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onCancelOrGracefulShutdown: {
            channel.close(promise: nil)
        }
    }

    /// `HOST:PORT`, an IPv6 host in brackets.
    static func display(host: String, port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// `--metrics`'s address: `HOST:PORT` as `--listen` takes it, loopback unless `insecure`.
    static func address(_ text: String, insecure: Bool) throws -> (host: String, port: Int) {
        let parsed: (host: String, port: Int)
        do {
            parsed = try ListenOptions.parse(text)
        } catch {
            throw ValidationError("--metrics takes HOST:PORT with a port from 0 to 65535, not \(text.debugDescription)")
        }
        guard ListenOptions.isLoopback(parsed.host) || insecure else {
            throw ValidationError(
                "--metrics \(text) is not a loopback address: anyone who reaches it reads the store's metrics, unauthenticated; add --insecure to serve it anyway")
        }
        return parsed
    }
}

/// What `serve --metrics` serves: the file's figures first, rendered as `sessionctl
/// metrics` renders them, then the families this process recorded through swift-metrics.
struct ServeExposition: Sendable {
    let store: SessionStore
    let registry: PrometheusCollectorRegistry

    /// Bootstraps swift-metrics with a Prometheus registry and returns the registry. Call
    /// it once, before the store and the gRPC server are made: both take the bootstrapped
    /// factory as they are made.
    static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }

    func text() async throws -> String {
        let snapshot = try await store.metricsSnapshot()
        // The sweeper records the file's families through swift-metrics too; they are
        // served once, from the file, with their help text.
        let fileFamilies = Set(snapshot.families.map(\.name))
        return PrometheusText.text(snapshot) + Self.processText(registry.emitToString(), excluding: fileFamilies)
    }

    /// The registry's exposition without the families named in `excluded`, families
    /// sorted by name (the registry writes them in no set order). The registry writes each
    /// family as its `# HELP` and `# TYPE` lines, then its samples, one per line.
    static func processText(_ text: String, excluding excluded: Set<String>) -> String {
        var families: [(name: String, lines: [Substring])] = []
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                let name = String(line.split(separator: " ", maxSplits: 3).dropFirst(2).first ?? "")
                if families.last?.name != name { families.append((name, [])) }
            }
            // A sample line before any family line is not in the registry's format: dropped.
            guard !families.isEmpty else { continue }
            families[families.count - 1].lines.append(line)
        }
        return families.filter { !excluded.contains($0.name) }
            .sorted { $0.name < $1.name }
            .map { $0.lines.joined(separator: "\n") + "\n" }
            .joined()
    }
}

/// Refuses a connection past ``MetricsEndpoint/maxConnections``.
private struct TooManyConnections: Error {}

/// Raised in a connection's pipeline when its request passes the size limit.
private struct RequestTooLarge: Error {}

/// The endpoint's open connections, counted against a limit.
private final class ConnectionSlots: Sendable {
    private let limit: Int
    private let open = Mutex(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Takes a slot; false when every slot is taken.
    func take() -> Bool {
        open.withLock { open in
            guard open < limit else { return false }
            open += 1
            return true
        }
    }

    func release() {
        open.withLock { $0 -= 1 }
    }
}

/// Passes a connection's first `bytes` bytes on; past them raises ``RequestTooLarge``
/// once and drops the rest.
private final class RequestSizeLimit: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var remaining: Int

    init(bytes: Int) {
        remaining = bytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard remaining >= 0 else { return }
        remaining -= unwrapInboundIn(data).readableBytes
        guard remaining >= 0 else {
            context.fireErrorCaught(RequestTooLarge())
            return
        }
        context.fireChannelRead(data)
    }
}

@available(*, unavailable)
extension RequestSizeLimit: Sendable {}

/// Answers a connection's first request, then closes the connection.
private final class MetricsRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let exposition: @Sendable () async throws -> String
    private let timeout: TimeAmount
    private let logger: Logger
    private var head: HTTPRequestHead?
    private var answering = false
    private var responded = false
    private var deadline: Scheduled<Void>?

    init(exposition: @escaping @Sendable () async throws -> String, timeout: TimeAmount, logger: Logger) {
        self.exposition = exposition
        self.timeout = timeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // One deadline for the whole exchange: a client that sends slowly, or does not
        // read the response, does not hold a connection slot for longer.
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if self.head == nil { self.head = head }
        case .body:
            // A body means nothing to GET; the size limit bounds it.
            break
        case .end:
            guard let head, !answering else { return }
            answering = true
            answer(head, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is RequestTooLarge {
            respond(context: context, status: .payloadTooLarge, body: "request too large\n")
        } else {
            // A malformed request was answered 400 by NIO's protocol error handler.
            context.close(promise: nil)
        }
    }

    private func answer(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard path == "/metrics" else {
            respond(context: context, status: .notFound, body: "not found: only /metrics is served\n")
            return
        }
        guard head.method == .GET else {
            respond(context: context, status: .methodNotAllowed, body: "method not allowed: use GET\n", headers: [("Allow", "GET")])
            return
        }
        let exposition = self.exposition
        context.eventLoop.makeFutureWithTask { try await exposition() }.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let text):
                self.respond(context: context, status: .ok, body: text, contentType: MetricsEndpoint.contentType)
            case .failure(let error):
                self.logger.warning("metrics scrape failed", metadata: ["error.message": "\(error)"])
                self.respond(context: context, status: .internalServerError, body: "cannot read the metrics\n")
            }
        }
    }

    /// Writes the one response, then closes the connection once it is flushed.
    private func respond(
        context: ChannelHandlerContext, status: HTTPResponseStatus, body: String,
        contentType: String = "text/plain; charset=utf-8", headers extra: [(String, String)] = []
    ) {
        guard !responded else { return }
        responded = true
        let buffer = context.channel.allocator.buffer(string: body)
        var headers = HTTPHeaders(extra)
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: "\(buffer.readableBytes)")
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension MetricsRequestHandler: Sendable {}
