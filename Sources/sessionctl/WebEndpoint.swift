import ArgumentParser
import Hummingbird
import Logging
import ServiceLifecycle
import SessionStore
import SessionStoreWeb

/// `serve --http`: the operator's web view (`SessionStoreWeb`) on a port of its own, in
/// serve's service group, so SIGTERM drains it with the gRPC server: the broadcaster stops
/// first and ends every live stream, then the HTTP server finishes the requests in flight.
enum WebEndpoint {
    /// `--http`'s address: `HOST:PORT` as `--listen` takes it, loopback only. The view
    /// has no TLS or login of its own yet, so it is not served where others reach it.
    static func address(_ text: String) throws -> (host: String, port: Int) {
        let parsed: (host: String, port: Int)
        do {
            parsed = try ListenOptions.parse(text)
        } catch {
            throw ValidationError("--http takes HOST:PORT with a port from 0 to 65535, not \(text.debugDescription)")
        }
        guard ListenOptions.isLoopback(parsed.host) else {
            throw ValidationError(
                "--http \(text) is not a loopback address: the web view serves loopback only (it has no TLS or login); reach it from another host through an SSH tunnel or an authenticating proxy")
        }
        return parsed
    }

    /// The HTTP server and the broadcaster, in the order the service group runs them.
    static func services(
        store: SessionStore, host: String, port: Int, logger: Logger, metrics: (@Sendable () async throws -> String)?
    ) -> [ServiceGroupConfiguration.ServiceConfiguration] {
        let web = SessionStoreWebView(store: store, logger: logger, metrics: metrics)
        let router = Router()
        web.addRoutes(to: router)
        let application = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                let address = MetricsEndpoint.display(host: host, port: channel.localAddress?.port ?? port)
                logger.info("web listening", metadata: ["web.address": "\(address)"])
            },
            logger: logger)
        // The broadcaster last: graceful shutdown stops services in reverse order, so its
        // streams end before the server waits for its open responses.
        return [.init(service: application), .init(service: web.broadcaster)]
    }
}
