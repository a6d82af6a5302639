/// What an open that may return an existing session did
/// (``SessionStore/openSessionReportingOutcome(_:)``,
/// ``SessionStore/openIsolatedSessionReportingOutcome(userId:sessionId:)``): the session,
/// whether it is new, and which fields of the request an existing session did not take.
///
/// ```swift
/// var request = OpenSessionRequest(userId: "ada", sessionId: "nb-1")
/// request.reconnect = true
/// request.dataSource = "telemetry"
/// let opened = try await store.openSessionReportingOutcome(request)
/// if !opened.created, opened.ignoredFields.contains("dataSource") {
///     // The live session nb-1 reads another data source: the request did not change it.
/// }
/// ```
///
/// Encodes to the session's JSON with two more fields, `created` and `ignoredFields`.
public struct OpenedSession: Sendable, Hashable, Encodable {
    /// The session opened or returned.
    public var session: Session
    /// True when the call opened a new session; false when it returned a live one (a
    /// reconnect, or getOrCreate finding the session), which counts as an access.
    public var created: Bool
    /// The names of the ``OpenSessionRequest`` fields whose values the returned session
    /// does not have, because an existing session keeps what it was opened with (and what
    /// was changed since): any of `dataSource`, `type`, `version`, `identifier`,
    /// `utcOffsetSeconds`, `details`, `config`, `associates` (a key not linked as a
    /// child), `clientAddress`, `impersonatedUser` and `timeout` (the negotiated one), in
    /// that order. Empty for a new session, and for getOrCreate, whose request names only
    /// the user and the session id.
    public var ignoredFields: [String]

    /// The session and what the open did.
    public init(session: Session, created: Bool, ignoredFields: [String] = []) {
        self.session = session
        self.created = created
        self.ignoredFields = ignoredFields
    }

    private enum CodingKeys: String, CodingKey {
        case created, ignoredFields
    }

    /// The session's fields, then `created` and `ignoredFields`, in one object.
    public func encode(to encoder: any Encoder) throws {
        try session.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(created, forKey: .created)
        try container.encode(ignoredFields, forKey: .ignoredFields)
    }
}

extension OpenSessionRequest {
    /// The fields of this request that `existing` does not have (see
    /// ``OpenedSession/ignoredFields``), given the request's validated associate keys and
    /// negotiated timeout (`nil`: never).
    func fieldsNotApplied(to existing: Session, associates: [String], timeoutMs: Int64?) -> [String] {
        let children = Set(existing.children)
        let differences: [(String, Bool)] = [
            ("dataSource", dataSource != existing.dataSource),
            ("type", type != existing.type),
            ("version", version != existing.version),
            ("identifier", identifier != existing.identifier),
            ("utcOffsetSeconds", utcOffsetSeconds != existing.utcOffsetSeconds),
            ("details", details != existing.details),
            ("config", config != existing.config),
            ("associates", !associates.allSatisfy(children.contains)),
            ("clientAddress", clientAddress != existing.clientAddress),
            ("impersonatedUser", impersonatedUser != existing.impersonatedUser),
            ("timeout", timeoutMs != existing.timeout.milliseconds),
        ]
        return differences.filter(\.1).map(\.0)
    }
}
