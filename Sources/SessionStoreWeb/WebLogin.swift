import Foundation
import HTTPTypes
import Hummingbird
import SessionStoreCore
import Synchronization

/// How a web view knows who is looking: a token typed into its login form, checked by
/// `principal` (the principal the token stands for, `nil` for an unknown one). A login sets
/// an `HttpOnly`, `Secure`, `SameSite=Strict` cookie holding a random id of the login,
/// never the token; each request is then served through that principal's
/// ``ScopedSessionStore``. Tokens never appear in a URL or a log line.
public struct WebAuthentication: Sendable {
    let principal: @Sendable (String) -> String?

    /// Logins checked by `principal`, which answers the principal of a token or `nil`;
    /// it should compare tokens in constant time.
    public init(principalOfToken principal: @escaping @Sendable (String) -> String?) {
        self.principal = principal
    }
}

/// The logins of a web view: random ids, each standing for a principal until it expires
/// or logs out. Kept in memory: a restart logs everyone out.
final class WebLogins: Sendable {
    /// How long a login lasts.
    static let lifetime: Duration = .seconds(12 * 3_600)
    /// The most logins kept; the oldest goes first past it.
    static let capacity = 10_000
    /// The cookie's name.
    static let cookieName = "sessionstore_web"

    private struct Login {
        let principal: String
        let expires: ContinuousClock.Instant
    }

    private let logins = Mutex<[String: Login]>([:])

    /// A new login of `principal`; returns its id.
    func create(principal: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let id = (0..<4).map { _ in String(generator.next() as UInt64, radix: 16) }.joined(separator: "-")
        let now = ContinuousClock.now
        logins.withLock { logins in
            if logins.count >= Self.capacity {
                logins = logins.filter { $0.value.expires > now }
                if logins.count >= Self.capacity, let oldest = logins.min(by: { $0.value.expires < $1.value.expires }) {
                    logins[oldest.key] = nil
                }
            }
            logins[id] = Login(principal: principal, expires: now + Self.lifetime)
        }
        return id
    }

    /// The principal of login `id`, if it has not expired.
    func principal(of id: String) -> String? {
        logins.withLock { logins in
            guard let login = logins[id] else { return nil }
            guard login.expires > ContinuousClock.now else {
                logins[id] = nil
                return nil
            }
            return login.principal
        }
    }

    func remove(_ id: String) {
        logins.withLock { _ = $0.removeValue(forKey: id) }
    }
}

extension SessionStoreWebView {
    /// The most bytes a login form's body may have.
    static let maxLoginBytes = 4_096

    /// Serves `body` through the view the request may see: the whole store without
    /// authentication, else the principal of its login cookie; without a valid login, a
    /// page is redirected to the login form and anything else is answered 401.
    func authorized(_ request: Request, page: Bool = true, _ body: (SessionStoreWebView) async throws -> Response) async throws -> Response {
        guard configuration.authentication != nil else { return try await body(self) }
        guard let id = request.cookies[WebLogins.cookieName]?.value, let principal = logins.principal(of: id) else {
            guard page else { return Self.response(status: .unauthorized, type: "text/plain; charset=utf-8", body: "log in first\n") }
            var headers = Self.securityHeaders
            headers[.location] = configuration.basePath + "/login"
            headers[.cacheControl] = "no-store"
            return Response(status: .seeOther, headers: headers)
        }
        var scoped = self
        scoped.view = try view.unscopedStore.acting(as: principal)
        return try await body(scoped)
    }

    /// `GET /login`: the form.
    func loginForm(status: HTTPResponse.Status = .ok, message: String? = nil) -> Response {
        let note = message.map { HTML("<p class=\"near\">\($0)</p>") } ?? ""
        let body = HTML(
            """
            <h1>Log in</h1>\(note)
            <form class="filters" method="post" action="\(configuration.basePath)/login">
            <label>Token<input type="password" name="token" autocomplete="current-password" autofocus></label>
            <button type="submit">Log in</button>
            </form>
            """)
        return Self.response(
            status: status, type: "text/html; charset=utf-8", body: layout(title: "Log in", here: "", stream: nil, body: body).text,
            extra: [.cacheControl: "no-store"])
    }

    /// `POST /login`: checks the token of the form and, when it names a principal, sets the
    /// login cookie and goes to the overview.
    func logIn(_ request: Request) async throws -> Response {
        guard let authentication = configuration.authentication else { return loginForm(status: .notFound, message: "No login here.") }
        let form = try await request.body.collect(upTo: Self.maxLoginBytes)
        let token = Query(String(buffer: form))["token"] ?? ""
        guard let principal = authentication.principal(token) else {
            logger.debug("web login refused")
            return loginForm(status: .unauthorized, message: "Unknown token.")
        }
        let id = logins.create(principal: principal)
        logger.debug("web login", metadata: ["auth.principal": "\(principal)"])
        var headers = Self.securityHeaders
        headers[.location] = configuration.basePath + "/"
        var response = Response(status: .seeOther, headers: headers)
        response.setCookie(
            Cookie(
                name: WebLogins.cookieName, value: id, maxAge: Int(WebLogins.lifetime.components.seconds),
                path: configuration.basePath.isEmpty ? "/" : configuration.basePath, secure: true, httpOnly: true, sameSite: .strict))
        return response
    }

    /// `POST /logout`: ends the login and clears the cookie.
    func logOut(_ request: Request) -> Response {
        if let id = request.cookies[WebLogins.cookieName]?.value { logins.remove(id) }
        var headers = Self.securityHeaders
        headers[.location] = configuration.basePath + "/login"
        var response = Response(status: .seeOther, headers: headers)
        response.setCookie(
            Cookie(
                name: WebLogins.cookieName, value: "", maxAge: 0, path: configuration.basePath.isEmpty ? "/" : configuration.basePath,
                secure: true, httpOnly: true, sameSite: .strict))
        return response
    }
}
