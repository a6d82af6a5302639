import ArgumentParser
import Foundation
import SessionStore
import SessionStoreGRPC

/// `serve`'s network options: where the gRPC server listens and how it knows its callers.
struct ListenOptions: ParsableArguments {
    enum AuthMode: String, ExpressibleByArgument, CaseIterable {
        case none, token, cert
    }

    @Option(
        help: ArgumentHelp(
            "Serve the gRPC API on HOST:PORT (port 0: any free port, logged). Without it serve runs no server.",
            valueName: "HOST:PORT"))
    var listen: String?

    @Option(
        help: ArgumentHelp(
            "How callers are identified: none (the request's user id is trusted; loopback only), token (--token-file), cert (mutual TLS: the client certificate's CN)."
        ))
    var auth: AuthMode = .none

    @Option(
        help: ArgumentHelp(
            "Lines 'TOKEN PRINCIPAL'; callers send 'authorization: Bearer TOKEN'. Must not be readable by group or others.",
            valueName: "FILE"))
    var tokenFile: String?

    @Option(help: ArgumentHelp("The server's certificate chain (PEM); enables TLS.", valueName: "FILE"))
    var tlsCert: String?
    @Option(help: ArgumentHelp("The server's private key (PEM).", valueName: "FILE"))
    var tlsKey: String?
    @Option(help: ArgumentHelp("Require client certificates issued by this CA (PEM): mutual TLS.", valueName: "FILE"))
    var tlsClientCa: String?

    @Option(
        name: .customLong("trusted-proxy"),
        help: ArgumentHelp("A principal whose CreateSession may name the end client's address (repeatable).", valueName: "PRINCIPAL"))
    var trustedProxies: [String] = []

    @Flag(help: "Allow a non-loopback --listen without TLS and authentication.")
    var insecure = false

    @Option(
        help: ArgumentHelp(
            "On SIGTERM or SIGINT, how long calls may take to finish before the ones still open are cut (e.g. 10s, 500ms).",
            valueName: "DURATION"))
    var drainTimeout = "10s"

    @Option(help: "At most this many client connections at once; one past it is closed as it arrives.")
    var maxConnections = 1000

    @Option(
        help: ArgumentHelp(
            "Close a connection that holds no call for this long (e.g. 5m); 0 for never.", valueName: "DURATION"))
    var idleTimeout = "5m"

    @Option(help: "At most this many streaming calls open at once for one principal (one address without authentication).")
    var maxStreamsPerPrincipal = 1000

    /// The server configuration, or a usage error that says what is wrong. With
    /// `webServed` (`--http`), `--auth token`, `--token-file` and `--tls-cert`/`--tls-key`
    /// may be given without `--listen`: the web view takes them.
    func configuration(webServed: Bool = false) throws -> SessionStoreGRPCServer.Configuration? {
        guard let listen else {
            if webServed, tlsClientCa == nil, auth != .cert {
                return nil
            }
            if tokenFile != nil || tlsCert != nil || tlsKey != nil || tlsClientCa != nil || auth != .none {
                throw ValidationError("--auth, --token-file and --tls-* need --listen")
            }
            return nil
        }
        let (host, port) = try Self.parse(listen)
        let tls = try tlsConfiguration()
        let authentication: CallerAuthentication
        switch auth {
        case .none:
            guard tokenFile == nil else { throw ValidationError("--token-file needs --auth token") }
            authentication = .none
        case .token:
            guard let tokenFile else { throw ValidationError("--auth token needs --token-file FILE") }
            authentication = .bearerTokens(try Self.readTokens(tokenFile))
        case .cert:
            guard tls?.clientCAPath != nil else { throw ValidationError("--auth cert needs --tls-cert, --tls-key and --tls-client-ca") }
            authentication = .clientCertificate
        }
        if !Self.isLoopback(host) && !insecure {
            if auth == .none {
                throw ValidationError(
                    "--listen \(listen) is not a loopback address: without --auth token or --auth cert anyone who reaches it acts as any user; add --insecure to serve it anyway")
            }
            if tls == nil && auth == .token {
                throw ValidationError(
                    "--listen \(listen) is not a loopback address: bearer tokens would cross the network in plaintext; add --tls-cert and --tls-key, or --insecure")
            }
        }
        guard let drainMilliseconds = DurationText.parse(milliseconds: drainTimeout), drainMilliseconds <= 86_400_000 else {
            throw ValidationError(
                "--drain-timeout takes a duration from 0 to 1d such as 10s or 500ms, not \(drainTimeout.debugDescription)")
        }
        var configuration = SessionStoreGRPCServer.Configuration(
            host: host, port: port, authentication: authentication, tls: tls, trustedProxies: Set(trustedProxies))
        configuration.drainTimeout = .milliseconds(drainMilliseconds)
        guard (1...1_000_000).contains(maxConnections) else {
            throw ValidationError("--max-connections takes a count from 1 to 1000000, not \(maxConnections)")
        }
        configuration.maxConnections = maxConnections
        guard let idleMilliseconds = DurationText.parse(milliseconds: idleTimeout), idleMilliseconds <= 86_400_000 * 365 else {
            throw ValidationError("--idle-timeout takes a duration such as 5m or 30s (0 for never), not \(idleTimeout.debugDescription)")
        }
        configuration.idleTimeout = idleMilliseconds == 0 ? nil : .milliseconds(idleMilliseconds)
        guard (1...1_000_000).contains(maxStreamsPerPrincipal) else {
            throw ValidationError("--max-streams-per-principal takes a count from 1 to 1000000, not \(maxStreamsPerPrincipal)")
        }
        configuration.maxStreamsPerPrincipal = maxStreamsPerPrincipal
        return configuration
    }

    private func tlsConfiguration() throws -> SessionStoreGRPCServer.TLS? {
        switch (tlsCert, tlsKey) {
        case (nil, nil):
            guard tlsClientCa == nil else { throw ValidationError("--tls-client-ca needs --tls-cert and --tls-key") }
            return nil
        case (let cert?, let key?):
            for path in [cert, key] + (tlsClientCa.map { [$0] } ?? []) where !FileManager.default.isReadableFile(atPath: path) {
                throw ValidationError("cannot read \(path)")
            }
            return SessionStoreGRPCServer.TLS(certificatePath: cert, keyPath: key, clientCAPath: tlsClientCa)
        default:
            throw ValidationError("--tls-cert and --tls-key go together")
        }
    }

    /// `HOST:PORT`, `[V6]:PORT`; the host defaults to 127.0.0.1 (`:PORT`).
    static func parse(_ text: String) throws -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":") else { throw ValidationError("--listen takes HOST:PORT, not \(text.debugDescription)") }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty { host = "127.0.0.1" }
        if host == "localhost" { host = "127.0.0.1" }
        guard let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else {
            throw ValidationError("--listen's port must be 0...65535, in \(text.debugDescription)")
        }
        return (host, port)
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "::1" || host.hasPrefix("127.")
    }

    /// The token file's tokens; refused when others may read it or a line is malformed.
    static func readTokens(_ path: String) throws -> BearerTokens {
        var info = stat()
        guard stat(path, &info) == 0 else { throw ValidationError("cannot read token file \(path)") }
        guard info.st_mode & 0o077 == 0 else {
            throw ValidationError(
                "token file \(path) is readable by group or others (mode \(String(info.st_mode & 0o777, radix: 8))); run chmod 600 \(path)")
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ValidationError("cannot read token file \(path)")
        }
        do {
            let tokens = try BearerTokens(parsing: text)
            guard tokens.count > 0 else { throw ValidationError("token file \(path) holds no token") }
            return tokens
        } catch let error as BearerTokens.FormatError {
            throw ValidationError("token file \(path): \(error)")
        }
    }
}
