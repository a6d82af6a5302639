/// What ``SessionStore/closeSession(key:reason:)`` did: the session as it is now, and
/// whether this call ended it.
///
/// ```swift
/// let closing = try await store.closeSession(key: key)
/// // A front end answers 200 to the call that closed, 410 to the others.
/// let status = closing.closedByThisCall ? 200 : 410
/// ```
///
/// Decided in the write transaction that ends the session: of any number of concurrent
/// closes of one key, exactly one says it closed.
///
/// Encodes to the session's JSON with one more field, `closedByThisCall`.
public struct ClosedSession: Sendable, Hashable, Encodable {
    /// The session after the call: ended (closed by this call, or already closed,
    /// expired or failed).
    public var session: Session
    /// True when this call ended the session; false when it had ended already (closed,
    /// expired or failed before, or by a concurrent call), and nothing was written.
    public var closedByThisCall: Bool

    /// The session and what the close did to it.
    public init(session: Session, closedByThisCall: Bool) {
        self.session = session
        self.closedByThisCall = closedByThisCall
    }

    private enum CodingKeys: String, CodingKey {
        case closedByThisCall
    }

    /// The session's fields, then `closedByThisCall`, in one object.
    public func encode(to encoder: any Encoder) throws {
        try session.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(closedByThisCall, forKey: .closedByThisCall)
    }
}
