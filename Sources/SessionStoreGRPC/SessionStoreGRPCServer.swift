import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import Metrics
import SessionStoreCore
import ServiceLifecycle
import Synchronization

/// A gRPC server for a ``SessionStore``: the two SessionStore services and the health
/// service on one listening address, as a swift-service-lifecycle `Service`.
///
/// On graceful shutdown (SIGTERM under a `ServiceGroup`) it drains: health turns
/// `NOT_SERVING`, the server stops accepting calls, streams end with `UNAVAILABLE` (a
/// reattached execution is detached), unary calls in flight finish, and ``run()``
/// returns. The store is the caller's to close afterwards.
///
/// ```swift
/// let server = SessionStoreGRPCServer(
///     store: store,
///     configuration: .init(host: "127.0.0.1", port: 50051, authentication: .none),
///     logger: logger)
/// let group = ServiceGroup(services: [server], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()
/// ```
public struct SessionStoreGRPCServer: Service {
    /// Where and how the server listens.
    public struct Configuration: Sendable {
        /// The address to bind: `127.0.0.1` unless told otherwise.
        public var host: String
        /// The port; 0 for one the system picks (see ``SessionStoreGRPCServer/listeningPort``).
        public var port: Int
        /// How callers are identified.
        public var authentication: CallerAuthentication
        /// TLS: the server's certificate chain and key (PEM files), and for mutual TLS the
        /// CA that client certificates must chain to. `nil` for plaintext.
        public var tls: TLS?
        /// Principals trusted to name the end client's address (`client_address`) for the
        /// per-address limits; everyone else is counted by its peer address.
        public var trustedProxies: Set<String>
        /// How many calls one connection may have open at once (streams included); 4,096
        /// unless told otherwise.
        public var maxConcurrentStreams = 4096
        /// How long a graceful shutdown waits for calls to finish; then the streams still
        /// open (a client that stopped reading, a stuck unary call) are cut and ``run()``
        /// returns all the same. 10 seconds unless told otherwise.
        public var drainTimeout: Duration = .seconds(10)
        /// How many connections may be open at once; one past it is closed as it arrives.
        /// 1,000 unless told otherwise: keep it below the process's open-file limit.
        public var maxConnections = 1000
        /// How long a new connection has to send the HTTP/2 preface before it is closed;
        /// 5 seconds unless told otherwise.
        public var handshakeTimeout: Duration = .seconds(5)
        /// How long a connection may stay open with no call before it is closed (with a
        /// GOAWAY, so a client reconnects when it next calls); 5 minutes unless told
        /// otherwise, `nil` for no limit.
        public var idleTimeout: Duration? = .seconds(300)
        /// How many streaming calls one principal (one address without authentication)
        /// may hold open at once; 1,000 unless told otherwise.
        public var maxStreamsPerPrincipal = 1000

        /// A configuration; plaintext on `host:port` unless `tls` is given.
        public init(
            host: String = "127.0.0.1", port: Int, authentication: CallerAuthentication, tls: TLS? = nil,
            trustedProxies: Set<String> = []
        ) {
            self.host = host
            self.port = port
            self.authentication = authentication
            self.tls = tls
            self.trustedProxies = trustedProxies
        }
    }

    /// PEM files of the server's TLS identity.
    public struct TLS: Sendable {
        /// The certificate chain, leaf first.
        public var certificatePath: String
        /// The private key.
        public var keyPath: String
        /// For mutual TLS: the CA certificate that client certificates must chain to.
        public var clientCAPath: String?

        /// A TLS identity; mutual TLS when `clientCAPath` is given.
        public init(certificatePath: String, keyPath: String, clientCAPath: String? = nil) {
            self.certificatePath = certificatePath
            self.keyPath = keyPath
            self.clientCAPath = clientCAPath
        }
    }

    private let store: SessionStore
    private let configuration: Configuration
    private let logger: Logger
    private let metrics: any MetricsFactory
    private let drain = DrainSignal()
    private let transport: HTTP2ServerTransport.Posix
    private let connections: ConnectionLimiter
    private let listening = ListeningPort()

    /// A server for `store`; nothing listens until ``run()``.
    /// - Parameter metrics: where the per-call metrics go; the bootstrapped factory when `nil`.
    public init(store: SessionStore, configuration: Configuration, logger: Logger, metrics: (any MetricsFactory)? = nil) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics ?? MetricsSystem.factory
        let address: GRPCNIOTransportCore.SocketAddress =
            configuration.host.contains(":")
            ? .ipv6(host: configuration.host, port: configuration.port)
            : .ipv4(host: configuration.host, port: configuration.port)
        var transportConfig = HTTP2ServerTransport.Posix.Config.defaults
        // Advertised to clients: left unset, HTTP/2 allows 100 streams a connection without
        // saying so, and a client that opens more (a dashboard following many data
        // sources) loses the whole connection.
        transportConfig.http2.maxConcurrentStreams = configuration.maxConcurrentStreams
        transportConfig.channelDebuggingCallbacks.onAcceptHTTP2Stream = RequestHeaderGuard.install(on:)
        transportConfig.connection.maxIdleTime = configuration.idleTimeout
        let connections = ConnectionLimiter(
            maximum: configuration.maxConnections, handshakeTimeout: configuration.handshakeTimeout, logger: logger)
        transportConfig.channelDebuggingCallbacks.onAcceptTCPConnection = connections.accept
        self.connections = connections
        self.transport = HTTP2ServerTransport.Posix(
            address: address, transportSecurity: Self.transportSecurity(configuration.tls), config: transportConfig)
    }

    private static func transportSecurity(_ tls: TLS?) -> HTTP2ServerTransport.Posix.TransportSecurity {
        guard let tls else { return .plaintext }
        let chain: [TLSConfig.CertificateSource] = [.file(path: tls.certificatePath, format: .pem)]
        let key: TLSConfig.PrivateKeySource = .file(path: tls.keyPath, format: .pem)
        guard let clientCA = tls.clientCAPath else { return .tls(certificateChain: chain, privateKey: key) }
        return .mTLS(certificateChain: chain, privateKey: key) { config in
            config.trustRoots = .certificates([.file(path: clientCA, format: .pem)])
            config.clientCertificateVerification = .noHostnameVerification
        }
    }

    /// The services, for mounting in a `GRPCServer` of one's own; pair them with
    /// ``interceptors(store:authentication:trustedProxies:logger:metrics:)``.
    public static func services(
        store: SessionStore, drain: DrainSignal = DrainSignal(), streams: StreamLimiter = StreamLimiter()
    ) -> [any RegistrableRPCService] {
        [
            SessionManagementService(store: store, drain: drain, streams: streams),
            ExecutionManagementService(store: store, drain: drain, streams: streams),
            HealthService(drain: drain, streams: streams),
            ReflectionService(store: store, drain: drain, streams: streams),
        ]
    }

    /// The interceptors that identify every caller and record every call; the services
    /// refuse calls that did not pass through them.
    public static func interceptors(
        store: SessionStore, authentication: CallerAuthentication, trustedProxies: Set<String> = [], logger: Logger,
        metrics: any MetricsFactory = MetricsSystem.factory
    ) -> [any ServerInterceptor] {
        interceptors(
            store: store, authentication: authentication, trustedProxies: trustedProxies, logger: logger, metrics: metrics,
            refusals: RefusalLedger())
    }

    static func interceptors(
        store: SessionStore, authentication: CallerAuthentication, trustedProxies: Set<String>, logger: Logger,
        metrics: any MetricsFactory, refusals: RefusalLedger
    ) -> [any ServerInterceptor] {
        [
            ObservabilityInterceptor(metrics: metrics),
            DeadlineInterceptor(),
            CallerInterceptor(
                authentication: authentication, trustedProxies: trustedProxies, store: store, logger: logger,
                refusals: refusals),
        ]
    }

    /// The port the server listens on, once it does (the one the system picked for port
    /// 0). Throws when ``run()`` ends without the server having listened (a shutdown that
    /// came first, an address in use).
    public var listeningPort: Int {
        get async throws {
            guard let port = await listening.port() else {
                throw RPCError(code: .unavailable, message: "the server stopped before it listened")
            }
            return port
        }
    }

    /// Serves until graceful shutdown, then drains and returns.
    public func run() async throws {
        let refusals = RefusalLedger()
        let store = self.store
        let server = GRPCServer(
            transport: transport,
            services: Self.services(
                store: store, drain: drain, streams: StreamLimiter(maximum: configuration.maxStreamsPerPrincipal)),
            interceptors: Self.interceptors(
                store: store, authentication: configuration.authentication, trustedProxies: configuration.trustedProxies,
                logger: logger, metrics: metrics, refusals: refusals))
        // The transport tells its address once it listens, and never when a shutdown came
        // before it started: the lookup runs apart, and whoever waits for the port hears
        // of the end of run() either way.
        let transport = self.transport
        let configuredPort = configuration.port
        let listening = self.listening
        let lookup = Task {
            guard let address = try? await transport.listeningAddress else { return }
            listening.resolve(address.ipv4?.port ?? address.ipv6?.port ?? configuredPort)
        }
        defer {
            lookup.cancel()
            listening.resolve(nil)
        }
        let drainTimeout = configuration.drainTimeout
        let connections = self.connections
        let deadline = DrainDeadline()
        do {
            try await withGracefulShutdownHandler {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await server.serve() }
                    group.addTask {
                        // A client that reads nothing (a zero flow-control window) would
                        // keep its stream, and the server, open for ever.
                        await drain.wait()
                        guard !Task.isCancelled else { return }
                        try await Task.sleep(for: drainTimeout)
                        // Cancelling the server's calls is not enough: a call blocked on
                        // writing to such a client keeps the server waiting for it. Once
                        // the connections close the server may end first, so the deadline
                        // is recorded before, not told by which task ends first.
                        deadline.pass()
                        connections.closeAll()
                        throw DrainDeadlinePassed()
                    }
                    group.addTask {
                        // Closes the refusal windows that ended, so their counts are written.
                        while (try? await Task.sleep(for: RefusalLedger.window)) != nil {
                            await store.record(refusals.flush(at: .now))
                        }
                    }
                    // Whichever ends first: the server, drained (the deadline and the
                    // refusal flush are then cancelled), or the deadline (the server's
                    // calls are then cancelled).
                    try await group.next()
                    group.cancelAll()
                }
            } onGracefulShutdown: {
                logger.info("draining: no new calls; streams end")
                drain.drain()
                server.beginGracefulShutdown()
            }
        } catch is DrainDeadlinePassed {
            // Logged below.
        } catch where deadline.hasPassed {
            // The server ended on its closed connections after the deadline.
            logger.debug("the server ended on its connections closed at the drain deadline", metadata: ["error": "\(error)"])
        } catch where drain.isDrained {
            // Told to stop before it started serving: a clean stop with nothing to drain.
            logger.debug("stopped before listening", metadata: ["error": "\(error)"])
        }
        if deadline.hasPassed {
            logger.warning(
                "drain deadline passed: the calls still open were cancelled", metadata: ["grpc.drain_timeout": "\(drainTimeout)"])
        }
        await store.record(refusals.flush())
        logger.info("drained")
    }
}

/// The drain took longer than ``SessionStoreGRPCServer/Configuration/drainTimeout``.
private struct DrainDeadlinePassed: Error {}

/// Whether the drain deadline passed, whichever of the server and the deadline ended
/// first.
private final class DrainDeadline: Sendable {
    private let passed = Atomic<Bool>(false)

    var hasPassed: Bool { passed.load(ordering: .acquiring) }

    func pass() {
        passed.store(true, ordering: .releasing)
    }
}

/// The port a server listens on, told once to everyone who waits for it; `nil` when the
/// server ended without listening.
private final class ListeningPort: Sendable {
    private let state = Mutex<(resolved: Bool, port: Int?, waiters: [CheckedContinuation<Int?, Never>])>((false, nil, []))

    /// Tells the waiters `port`; only the first call counts.
    func resolve(_ port: Int?) {
        let waiters = state.withLock { state -> [CheckedContinuation<Int?, Never>] in
            guard !state.resolved else { return [] }
            state.resolved = true
            state.port = port
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: port) }
    }

    /// The port, once resolved.
    func port() async -> Int? {
        await withCheckedContinuation { continuation in
            let resolved = state.withLock { state -> Int?? in
                guard state.resolved else {
                    state.waiters.append(continuation)
                    return .none
                }
                return .some(state.port)
            }
            if case .some(let port) = resolved { continuation.resume(returning: port) }
        }
    }
}
