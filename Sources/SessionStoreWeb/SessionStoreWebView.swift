import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SessionStoreCore

/// The operator's web view of a store: server-rendered pages that read without
/// JavaScript, live updates through Server-Sent Events from one shared follower, the
/// store's Prometheus text and a health check — as Hummingbird routes a service mounts in
/// its own application.
///
/// ```swift
/// let web = SessionStoreWebView(store: store, logger: logger)
/// let router = Router()
/// web.addRoutes(to: router)
/// let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 8080)))
/// // The broadcaster after the application: graceful shutdown stops it first.
/// let group = ServiceGroup(services: [app, web.broadcaster], logger: logger)
/// try await group.run()
/// ```
///
/// | Route | What it serves |
/// | --- | --- |
/// | `GET /` | the overview: live sessions by data source and user, limits, refusals, expiry, the sweeper, instances, events per second |
/// | `GET /sessions` | sessions filtered by user, data source, state and text, in an indexed order, 100 a page |
/// | `GET /sessions/{key}` | one session's whole story |
/// | `GET /events` | the event log, by kind and session, following live |
/// | `GET /events/stream` | Server-Sent Events (`id:` the sequence number; `Last-Event-ID` resumes) |
/// | `GET /metrics` | the store's figures in the Prometheus text format (trusted view only) |
/// | `GET /healthz` | `ok` while the store answers |
///
/// The view is read-only: it serves `GET` only, but for the login form's `POST /login`
/// and `POST /logout` when ``Configuration/authentication`` is set. Every stored value is
/// HTML-escaped, and every response carries a Content-Security-Policy that allows only
/// the view's own stylesheet and script.
public struct SessionStoreWebView: Sendable {
    /// Settings of a web view.
    public struct Configuration: Sendable {
        /// The path the routes are mounted under (`""`, or `/ops` with no trailing slash);
        /// links in pages start with it.
        public var basePath: String
        /// Sessions and events a page shows, at most 10,000.
        public var pageSize: Int
        /// Who may look, and as whom; `nil` serves the view given to everyone who reaches
        /// the server (a loopback server of trusted operators).
        public var authentication: WebAuthentication?

        /// Routes at the root, 100 rows a page, no login, unless told otherwise.
        public init(basePath: String = "", pageSize: Int = 100, authentication: WebAuthentication? = nil) {
            self.basePath = basePath
            self.pageSize = pageSize
            self.authentication = authentication
        }
    }

    /// The Content-Security-Policy of every response: the view's own files only, no
    /// inline script or style, no framing.
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    /// What the pages show: the view given, or with authentication the view of the
    /// request's principal.
    var view: ScopedSessionStore
    let configuration: Configuration
    let logins = WebLogins()
    let metricsText: @Sendable () async throws -> String
    let logger: Logger
    /// The fan-out of the store's events to the view's SSE clients: run it in the service
    /// group beside the HTTP server.
    public let broadcaster: EventBroadcaster

    /// A web view of everything in `store`: for trusted operators only (a loopback
    /// server, or one behind authentication of its own).
    ///
    /// - Parameters:
    ///   - metrics: the body of `GET /metrics`; by default the store's figures as
    ///     `sessionctl metrics` prints them.
    public init(
        store: SessionStore, configuration: Configuration = Configuration(), logger: Logger,
        metrics: (@Sendable () async throws -> String)? = nil
    ) {
        self.init(view: store.trustedView(), configuration: configuration, logger: logger, metrics: metrics)
    }

    /// A web view of what `view` shows: a principal's view (``SessionStore/acting(as:)``)
    /// shows that principal's sessions and events only, and neither the store-wide figures
    /// of the overview nor `/metrics`.
    public init(
        view: ScopedSessionStore, configuration: Configuration = Configuration(), logger: Logger,
        metrics: (@Sendable () async throws -> String)? = nil
    ) {
        let store = view.unscopedStore
        self.view = view
        self.configuration = configuration
        self.logger = logger
        self.metricsText = metrics ?? { PrometheusText.text(try await store.metricsSnapshot()) }
        self.broadcaster = EventBroadcaster(store: store, logger: logger)
    }

    /// Adds the view's routes to `router` (under ``Configuration/basePath``).
    public func addRoutes<Context: RequestContext>(to router: some RouterMethods<Context>) {
        let routes = router.group(RouterPath(configuration.basePath))
        routes.get("/") { request, _ in
            try await self.authorized(request) { web in try await web.page(request) { try await web.overviewPage() } }
        }
        routes.get("/sessions") { request, _ in
            try await self.authorized(request) { web in try await web.page(request) { try await web.sessionsPage(Query(request)) } }
        }
        routes.get("/sessions/{key}") { request, context in
            let key = try context.parameters.require("key")
            return try await self.authorized(request) { web in try await web.page(request) { try await web.sessionPage(key: key) } }
        }
        routes.get("/events") { request, _ in
            try await self.authorized(request) { web in try await web.page(request) { try await web.eventsPage(Query(request)) } }
        }
        routes.get("/events/stream") { request, _ in try await self.authorized(request, page: false) { web in web.eventStream(request) } }
        routes.get("/metrics") { request, _ in try await self.authorized(request, page: false) { web in try await web.metrics() } }
        routes.get("/healthz") { _, _ in try await self.health() }
        routes.get("/assets/web.css") { _, _ in Self.asset(Assets.stylesheet, type: "text/css; charset=utf-8") }
        routes.get("/assets/live.js") { _, _ in Self.asset(Assets.script, type: "text/javascript; charset=utf-8") }
        if configuration.authentication != nil {
            routes.get("/login") { _, _ in self.loginForm() }
            routes.post("/login") { request, _ in try await self.logIn(request) }
            routes.post("/logout") { request, _ in self.logOut(request) }
        }
    }

    // MARK: Responses

    /// Renders a page; a store error becomes a page that names it (404 for a session
    /// that does not exist, 400 for an invalid argument), logged at debug.
    private func page(_ request: Request, _ render: () async throws -> HTML) async throws -> Response {
        let started = ContinuousClock.now
        var status = HTTPResponse.Status.ok
        var html: HTML
        do {
            html = try await render()
        } catch let error as WebError {
            status = error.status
            html = layout(title: "Not found", here: "", stream: nil, body: HTML("<h1>\(error.message)</h1>"))
        } catch let error as SessionStoreError {
            status = Self.status(of: error)
            html = layout(
                title: "Error", here: "", stream: nil,
                body: HTML("<h1>\(error.code.rawValue)</h1><p>\(error.message)</p>"))
        }
        let elapsed = ContinuousClock.now - started
        logger.debug(
            "web page rendered",
            metadata: ["http.path": "\(request.uri.path)", "http.status": "\(status.code)", "web.render_ms": "\(elapsed.milliseconds)"])
        return Self.response(status: status, type: "text/html; charset=utf-8", body: html.text, extra: [.cacheControl: "no-store"])
    }

    private func metrics() async throws -> Response {
        guard view.principal == nil else {
            return Self.response(status: .notFound, type: "text/plain; charset=utf-8", body: "not found\n")
        }
        return Self.response(status: .ok, type: "text/plain; version=0.0.4; charset=utf-8", body: try await metricsText() + webMetrics())
    }

    /// The view's own families: its live stream clients, and the queries of the event log
    /// made for this process's consumers (one per commit however many clients follow).
    private func webMetrics() -> String {
        let follower = view.unscopedStore.eventFollower
        return """
            # HELP sessionstore_web_stream_clients Server-Sent Events clients of the web view connected now.
            # TYPE sessionstore_web_stream_clients gauge
            sessionstore_web_stream_clients \(broadcaster.clientCount)
            # HELP sessionstore_event_follower_reads_total Queries of the event log made for this process's event consumers since the store opened.
            # TYPE sessionstore_event_follower_reads_total counter
            sessionstore_event_follower_reads_total \(follower.eventReads)

            """
    }

    private func health() async throws -> Response {
        do {
            _ = try await view.latestEventSeq()
            return Self.response(status: .ok, type: "text/plain; charset=utf-8", body: "ok\n", extra: [.cacheControl: "no-store"])
        } catch {
            return Self.response(
                status: .serviceUnavailable, type: "text/plain; charset=utf-8", body: "unavailable\n", extra: [.cacheControl: "no-store"])
        }
    }

    private static func asset(_ text: String, type: String) -> Response {
        response(status: .ok, type: type, body: text, extra: [.cacheControl: Assets.cacheControl])
    }

    static func response(status: HTTPResponse.Status, type: String, body: String, extra: HTTPFields = [:]) -> Response {
        var headers = securityHeaders
        headers[.contentType] = type
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    /// The headers of every response.
    static var securityHeaders: HTTPFields {
        var headers = HTTPFields()
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        headers[.referrerPolicy] = "no-referrer"
        headers[.xFrameOptions] = "DENY"
        return headers
    }

    private static func status(of error: SessionStoreError) -> HTTPResponse.Status {
        let code = error.code.rawValue
        if code.hasPrefix("INVALID_HANDLE") { return .notFound }
        if code.hasPrefix("INVALID_ARGUMENT") { return .badRequest }
        if code.hasPrefix("PERMISSION_DENIED") { return .forbidden }
        return .serviceUnavailable
    }
}

/// A page that cannot be shown, with its status.
struct WebError: Error {
    let status: HTTPResponse.Status
    let message: String
}

extension HTTPField.Name {
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
    static let xFrameOptions = Self("X-Frame-Options")!
    static let lastEventID = Self("Last-Event-ID")!
    static let xAccelBuffering = Self("X-Accel-Buffering")!
}

extension Duration {
    /// Whole and fractional milliseconds.
    var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1_000 + Double(attoseconds) / 1e15
    }
}
