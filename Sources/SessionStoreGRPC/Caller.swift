import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SessionStoreCore
import X509

/// Who is calling: established once per call by ``CallerInterceptor`` before any service
/// code runs, and read by the services through ``Caller/current``.
public struct Caller: Sendable, Hashable {
    /// How far the caller is trusted.
    public enum Identity: Sendable, Hashable {
        /// Authentication is off (`--auth none`, loopback only): the request's `user_id`
        /// is taken as given and a session key is proof enough, as for the library's
        /// unscoped API.
        case trusted
        /// An authenticated principal: every call acts through
        /// `SessionStore.acting(as:)`, so another principal's session answers not-found.
        case principal(String)
    }

    /// How far the caller is trusted.
    public var identity: Identity
    /// The address the call came from (`127.0.0.1`, `::1`), counted by the per-address
    /// limits; `nil` for a Unix socket.
    public var peerAddress: String?
    /// Whether the principal may name another client address (a trusted proxy).
    public var isTrustedProxy: Bool

    /// A caller.
    public init(identity: Identity, peerAddress: String?, isTrustedProxy: Bool = false) {
        self.identity = identity
        self.peerAddress = peerAddress
        self.isTrustedProxy = isTrustedProxy
    }

    /// The authenticated principal; `nil` for a trusted caller.
    public var principal: String? {
        if case .principal(let name) = identity { return name }
        return nil
    }

    /// The caller of the call running in this task; set by ``CallerInterceptor``.
    @TaskLocal public static var current: Caller?

    /// The host part of a peer string as the NIO transport writes it
    /// (`ipv4:127.0.0.1:5000`, `ipv6:[::1]:5000`); `nil` for other transports.
    static func address(ofPeer peer: String) -> String? {
        if peer.hasPrefix("ipv4:") {
            let rest = peer.dropFirst("ipv4:".count)
            guard let colon = rest.lastIndex(of: ":") else { return String(rest) }
            return String(rest[..<colon])
        }
        if peer.hasPrefix("ipv6:") {
            let rest = peer.dropFirst("ipv6:".count)
            guard rest.hasPrefix("["), let close = rest.firstIndex(of: "]") else { return String(rest) }
            return String(rest[rest.index(after: rest.startIndex)..<close])
        }
        return nil
    }
}

/// How the server learns who calls.
public enum CallerAuthentication: Sendable {
    /// Nobody is authenticated; every caller is ``Caller/Identity/trusted``. Serve it on
    /// loopback only.
    case none
    /// A bearer token in the `authorization` metadata (`Bearer TOKEN`) names the
    /// principal; a call without one, or with one not in the table, is refused with
    /// `UNAUTHENTICATED` and recorded as a `call.refused` event.
    case bearerTokens(BearerTokens)
    /// The subject common name (CN) of the client's certificate, verified by mutual TLS
    /// against the configured client CA, is the principal.
    case clientCertificate
}

/// Bearer tokens and the principals they stand for.
///
/// Read from a file of lines `TOKEN PRINCIPAL`; blank lines and lines starting with `#`
/// are skipped. Tokens are compared in constant time.
public struct BearerTokens: Sendable {
    private let principals: [(token: [UInt8], principal: String)]

    /// The tokens of `lines`.
    /// - Throws: ``BearerTokens/FormatError`` naming the first line that is not `TOKEN PRINCIPAL`.
    public init(parsing text: String) throws {
        var principals: [(token: [UInt8], principal: String)] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let fields = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count == 2 else { throw FormatError(line: number + 1) }
            principals.append((Array(fields[0].utf8), String(fields[1])))
        }
        self.principals = principals
    }

    /// The line number of a line that is not `TOKEN PRINCIPAL`.
    public struct FormatError: Error, CustomStringConvertible {
        /// The 1-based line number.
        public var line: Int
        public var description: String { "line \(line) is not 'TOKEN PRINCIPAL'" }
    }

    /// How many tokens there are.
    public var count: Int { principals.count }

    /// The principal of `token`, comparing every token in full.
    package func principal(of token: some Collection<UInt8>) -> String? {
        let token = Array(token)
        var found: String?
        for entry in principals where Self.constantTimeEqual(entry.token, token) {
            found = entry.principal
        }
        return found
    }

    private static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<max(a.count, b.count) {
            let x = index < a.count ? a[index] : 0
            let y = index < b.count ? b[index] : 0
            difference |= x ^ y
        }
        return difference == 0
    }
}

extension Certificate {
    /// The subject's common name (the last CN attribute), if any.
    var subjectCommonName: String? {
        var name: String?
        for relativeName in subject {
            for attribute in relativeName where attribute.type == .RDNAttributeType.commonName {
                name = String(describing: attribute.value)
            }
        }
        return name
    }
}
