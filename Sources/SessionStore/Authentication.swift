/// Who is asking to open a session, as the authenticator sees it.
public struct AuthenticationRequest: Sendable, Hashable {
    public let userId: String
    /// Whatever the client presented (a password, a token); `nil` when nothing.
    public let credentials: String?
    public let clientAddress: String?
}

/// Decides at open whether the presented credentials admit the user (Hive's
/// authentication hook). A refusal becomes `PERMISSION_DENIED.AUTHENTICATION` and an
/// `session.refused` event.
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
    public init() {}
    public func authenticate(_ request: AuthenticationRequest) async throws -> Bool { true }
}

/// Decides whether `principal` may act as `user` (Hive's proxy-user rule). A refusal
/// becomes `PERMISSION_DENIED.IMPERSONATION` and a `session.refused` event.
public protocol ImpersonationPolicy: Sendable {
    func allows(principal: String, toActAs user: String) -> Bool
}

/// Nobody acts as anybody else.
public struct NoImpersonation: ImpersonationPolicy {
    public init() {}
    public func allows(principal: String, toActAs user: String) -> Bool { principal == user }
}

/// Everybody may act as anybody: for trusted front ends that authenticated the end user.
public struct AnyImpersonation: ImpersonationPolicy {
    public init() {}
    public func allows(principal: String, toActAs user: String) -> Bool { true }
}

/// Named principals may act as anyone; others only as themselves.
public struct ProxyUsersImpersonation: ImpersonationPolicy {
    public let proxyUsers: Set<String>
    public init(proxyUsers: Set<String>) { self.proxyUsers = proxyUsers }
    public func allows(principal: String, toActAs user: String) -> Bool {
        principal == user || proxyUsers.contains(principal)
    }
}
