extension SessionStore {
    /// Records that a front end refused a call before it reached the store — a missing or
    /// unknown credential — as a `call.refused` event, so the refusals of every front end
    /// are in one log. Never throws: a record that cannot be written is a warning in the
    /// log, and the caller goes on refusing.
    ///
    /// ```swift
    /// await store.recordRefusedCall(
    ///     method: "sessionstore.v1.SessionManagement/CreateSession",
    ///     clientAddress: "203.0.113.9", reason: "unknown bearer token")
    /// ```
    ///
    /// - Parameters:
    ///   - method: what was called, e.g. a gRPC method's full name; cut to 256 bytes.
    ///   - clientAddress: where the call came from, if known; cut to 256 bytes.
    ///   - reason: why it was refused, in the front end's words; never the credential.
    ///   - count: how many refusals the event stands for, when a front end records them in
    ///     aggregate (the payload's `count`, absent for one); `method` and `reason` are
    ///     then the last one's.
    public func recordRefusedCall(method: String, clientAddress: String?, reason: String, count: Int = 1) async {
        var fields = ["method": Self.bounded(method), "reason": Self.bounded(reason)]
        fields["clientAddress"] = clientAddress.map(Self.bounded)
        if count != 1 { fields["count"] = String(count) }
        let payload = fields
        do {
            try await write { db in
                try db.events.append(at: db.now, kind: EventKind.callRefused, subject: EventSubject(), payload: payload)
            }
        } catch {
            logger.warning("could not record a refused call", metadata: ["error": "\(error)"])
        }
    }

    /// `text` cut to at most 256 bytes of UTF-8, on a character boundary.
    private static func bounded(_ text: String) -> String {
        guard text.utf8.count > 256 else { return text }
        var end = text.startIndex
        var bytes = 0
        for index in text.indices {
            let size = text[index].utf8.count
            guard bytes + size <= 256 else { break }
            bytes += size
            end = text.index(after: index)
        }
        return String(text[..<end])
    }
}
