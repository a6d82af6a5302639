import ArgumentParser
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOSSL
import Logging
import ServiceLifecycle
import SessionStore
import SessionStoreGRPC
import SessionStoreWeb

/// `serve --http`: the operator's web view (`SessionStoreWeb`) on a port of its own, in
/// serve's service group, so SIGTERM drains it with the gRPC server: the broadcaster stops
/// first and ends every live stream, then the HTTP server finishes the requests in flight.
/// `--auth token` with `--token-file` puts it behind a login form, `--tls-cert` and
/// `--tls-key` serve it over TLS; both are needed on a non-loopback address.
enum WebEndpoint {
    /// What `serve`'s options say of the web view.
    struct Settings {
        let host: String
        let port: Int
        /// `--token-file`'s tokens with `--auth token`: the view asks for one.
        let tokens: BearerTokens?
        /// `--tls-cert` and `--tls-key`: the view serves HTTPS.
        let tls: (certificate: String, key: String)?

        /// `--http`'s address: `HOST:PORT` as `--listen` takes it. Loopback unless the
        /// view serves HTTPS and asks for a token: the view is not served unauthenticated,
        /// or in plaintext, where others reach it.
        init(_ text: String, network: ListenOptions) throws {
            let parsed: (host: String, port: Int)
            do {
                parsed = try ListenOptions.parse(text)
            } catch {
                throw ValidationError("--http takes HOST:PORT with a port from 0 to 65535, not \(text.debugDescription)")
            }
            (host, port) = parsed
            switch network.auth {
            case .token:
                guard let file = network.tokenFile else { throw ValidationError("--auth token needs --token-file FILE") }
                tokens = try ListenOptions.readTokens(file)
            case .none, .cert:
                tokens = nil
            }
            switch (network.tlsCert, network.tlsKey) {
            case (let certificate?, let key?):
                for path in [certificate, key] where !FileManager.default.isReadableFile(atPath: path) {
                    throw ValidationError("cannot read \(path)")
                }
                tls = (certificate, key)
            case (nil, nil):
                tls = nil
            default:
                throw ValidationError("--tls-cert and --tls-key go together")
            }
            guard ListenOptions.isLoopback(host) || (tls != nil && tokens != nil) else {
                throw ValidationError(
                    "--http \(text) is not a loopback address: the web view needs --tls-cert and --tls-key and --auth token with --token-file there, so that only token holders read it, over TLS")
            }
        }
    }

    /// The HTTP server and the broadcaster, in the order the service group runs them.
    static func services(
        store: SessionStore, settings: Settings, logger: Logger, metrics: (@Sendable () async throws -> String)?
    ) throws -> [ServiceGroupConfiguration.ServiceConfiguration] {
        let authentication = settings.tokens.map { tokens in
            WebAuthentication(principalOfToken: { token in tokens.principal(of: token.utf8) })
        }
        let web = SessionStoreWebView(
            store: store, configuration: .init(authentication: authentication), logger: logger, metrics: metrics)
        let router = Router()
        web.addRoutes(to: router)
        var server = HTTPServerBuilder.http1()
        if let tls = settings.tls {
            let chain = try NIOSSLCertificate.fromPEMFile(tls.certificate).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: tls.key, format: .pem)
            server = try .tls(.http1(), tlsConfiguration: TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
        }
        let (host, port, scheme) = (settings.host, settings.port, settings.tls == nil ? "http" : "https")
        let application = Application(
            router: router, server: server,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                let address = MetricsEndpoint.display(host: host, port: channel.localAddress?.port ?? port)
                logger.info("web listening", metadata: ["web.address": "\(address)", "web.scheme": "\(scheme)"])
            },
            logger: logger)
        // The broadcaster last: graceful shutdown stops services in reverse order, so its
        // streams end before the server waits for its open responses.
        return [.init(service: application), .init(service: web.broadcaster)]
    }
}
