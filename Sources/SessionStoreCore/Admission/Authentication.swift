import Foundation

/// Who is asking to open a session, as the authenticator sees it.
public struct AuthenticationRequest: Sendable, Hashable {
    /// The user asking to open the session: the principal, before any impersonation.
    public let userId: String
    /// Whatever the client presented (a password, a token); `nil` when nothing.
    public let credentials: String?
    /// Where the client connects from; `nil` when not given.
    public let clientAddress: String?
}

/// Decides at open whether the presented credentials admit the user (Hive's
/// authentication hook). A refusal becomes `PERMISSION_DENIED.AUTHENTICATION` and an
/// `session.refused` event. So does an error thrown, whose text may describe the
/// authenticator's own secrets: the caller and the event get a generic message, and the
/// error reaches only a `debug` log line of the store's logger.
///
/// ```swift
/// struct TokenAuthenticator: SessionAuthenticator {
///     func authenticate(_ request: AuthenticationRequest) async throws -> Bool {
///         request.credentials == "secret-for-\(request.userId)"
///     }
/// }
/// ```
public protocol SessionAuthenticator: Sendable {
    func authenticate(_ request: AuthenticationRequest) async throws -> Bool
}

/// Admits everyone: the calling service has authenticated its clients already.
public struct TrustingAuthenticator: SessionAuthenticator {
    /// Creates the authenticator.
    public init() {}
    /// Admits every request.
    public func authenticate(_ request: AuthenticationRequest) async throws -> Bool { true }
}

/// Decides whether `principal` may act as `user` (Hive's proxy-user rule). A refusal
/// becomes `PERMISSION_DENIED.IMPERSONATION` and a `session.refused` event.
///
/// The store passes both names in Unicode NFC, as it stores them; compare their bytes
/// (`principal.utf8.elementsEqual(user.utf8)`), not with `==`, which also takes a
/// decomposed spelling for the same name, as the policies here do.
public protocol ImpersonationPolicy: Sendable {
    func allows(principal: String, toActAs user: String) -> Bool
}

/// Nobody acts as anybody else.
public struct NoImpersonation: ImpersonationPolicy {
    /// Creates the policy.
    public init() {}
    /// Allows only acting as oneself.
    public func allows(principal: String, toActAs user: String) -> Bool { principal.hasSameBytes(as: user) }
}

/// Everybody may act as anybody: for trusted front ends that authenticated the end user.
public struct AnyImpersonation: ImpersonationPolicy {
    /// Creates the policy.
    public init() {}
    /// Allows every principal to act as every user.
    public func allows(principal: String, toActAs user: String) -> Bool { true }
}

/// Named principals may act as anyone; others only as themselves.
public struct ProxyUsersImpersonation: ImpersonationPolicy {
    /// The principals that may act as any user.
    public let proxyUsers: Set<String>
    /// The NFC bytes of each proxy user: what a principal's bytes are compared with.
    private let proxyUserBytes: Set<[UInt8]>
    /// A policy letting `proxyUsers` act as anyone; each name is taken in NFC, as the
    /// store takes user ids.
    public init(proxyUsers: Set<String>) {
        self.proxyUsers = proxyUsers
        proxyUserBytes = Set(proxyUsers.map { Array($0.precomposedStringWithCanonicalMapping.utf8) })
    }
    /// Allows acting as oneself, and a proxy user acting as anyone; names compared by
    /// their bytes.
    public func allows(principal: String, toActAs user: String) -> Bool {
        principal.hasSameBytes(as: user) || proxyUserBytes.contains(Array(principal.utf8))
    }
}
