
/// An open that was refused — by the authenticator, the impersonation policy or a
/// session-count limit — and the one `session.refused` event every refusal writes.
///
/// The event's payload has the same shape whoever refused: `code` and `message`, plus
/// `limit` and `live` (the sessions it counted) when a limit refused.
struct OpenRefusal: Sendable {
    let error: SessionStoreError
    /// The payload, encoded when the refusal is made: on the caller's task for an
    /// admission refusal, before the write starts.
    let payloadJSON: String

    init(_ error: SessionStoreError, limit: Int? = nil, live: Int64? = nil) {
        self.error = error
        var payload = ["code": error.code.rawValue, "message": error.message]
        payload["limit"] = limit.map(String.init)
        payload["live"] = live.map(String.init)
        payloadJSON = JSONText.object(payload)
    }

    /// Writes the `session.refused` event for `request`.
    func record(_ db: any StorageTransaction, request: OpenSessionRequest, at time: Int64) throws {
        try db.events.append(at: time, kind: EventKind.sessionRefused,
            subject: EventSubject(userId: request.userId, dataSource: request.dataSource), payloadJSON: payloadJSON)
    }
}
