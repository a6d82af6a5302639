/// A session that started or stopped, as the Stream API's notifications report it.
public struct SessionNotification: Sendable, Hashable, Codable {
    /// The key of the session that started or stopped.
    public var sessionKey: String
    /// The session's data source.
    public var dataSource: String
    /// The sequence number of the event it came from: pass the last one received as
    /// `after` to resume where a stream left off (like server-sent events'
    /// `Last-Event-ID`).
    public var seq: Int64
    /// For a stop, how the session ended: `closed`, `expired` or `failed`; `nil` for a
    /// start.
    public var endState: SessionState?
    /// For a stop, why it ended: the reason given to the close, or the store's own
    /// (`expired` for an expiry); `nil` for a start.
    public var reason: String?
}

/// Every user's session starts and stops: unchecked calls for trusted code in the
/// process. A caller that is not trusted is served through ``SessionStore/acting(as:)``,
/// whose ``ScopedSessionStore`` makes the same calls for one principal.
extension SessionStore {
    /// Sessions started after `seq`, optionally of one data source, in this process or
    /// any other on the same file; each is delivered after its commit.
    ///
    /// With `seq` `nil` (the default) only sessions started from now on are delivered, no
    /// history. To resume after a disconnect without losing or repeating a notification,
    /// pass the ``SessionNotification/seq`` of the last one received:
    ///
    /// ```swift
    /// var last: Int64? = nil  // or the client's Last-Event-ID
    /// for try await start in try await store.sessionStarts(dataSource: "telemetry", after: last) {
    ///     send(start, id: start.seq)
    ///     last = start.seq
    /// }
    /// ```
    ///
    /// Events older than ``SessionStoreConfiguration/eventRetention`` are gone: a resume
    /// from before them starts at the oldest retained event.
    ///
    /// - Parameter pollInterval: how soon, at most, a start in another process is noticed;
    ///   see ``events(from:kinds:pollInterval:)``.
    public func sessionStarts(
        dataSource: String? = nil, after seq: Int64? = nil, pollInterval: Duration = .milliseconds(50)
    ) async throws -> EventStream<SessionNotification> {
        try await notifications(
            kind: EventKind.sessionStarted, dataSource: dataSource, userId: nil, after: seq, pollInterval: pollInterval)
    }

    /// Sessions ended after `seq` (closed, expired or failed, each with its end state and
    /// reason), optionally of one data source; see
    /// ``sessionStarts(dataSource:after:pollInterval:)``.
    ///
    /// ```swift
    /// for try await stop in try await store.sessionStops(dataSource: "telemetry") {
    ///     print(stop.sessionKey, stop.endState?.rawValue ?? "?", stop.reason ?? "")
    /// }
    /// ```
    public func sessionStops(
        dataSource: String? = nil, after seq: Int64? = nil, pollInterval: Duration = .milliseconds(50)
    ) async throws -> EventStream<SessionNotification> {
        try await notifications(
            kind: EventKind.sessionEnded, dataSource: dataSource, userId: nil, after: seq, pollInterval: pollInterval)
    }

    /// The `session.started` and `session.ended` events after `seq`, in commit order,
    /// optionally of one data source: a session's whole coming and going, with each
    /// event's time, user and payload, for a view that shows both (`sessionctl watch`).
    /// With `seq` `nil` (the default), only what happens from now on.
    ///
    /// ```swift
    /// for try await event in try await store.sessionChanges(dataSource: "telemetry") {
    ///     print(event.kind == EventKind.sessionEnded ? "stop" : "start", event.sessionKey ?? "")
    /// }
    /// ```
    public func sessionChanges(
        dataSource: String? = nil, after seq: Int64? = nil, pollInterval: Duration = .milliseconds(50)
    ) async throws -> EventStream<StoreEvent> {
        let dataSource = try configuration.validator.optionalId(dataSource, field: .invalidDataSource)
        var start = seq ?? 0
        if seq == nil { start = try await latestEventSeq() }
        let kinds: Set<EventKind> = [EventKind.sessionStarted, EventKind.sessionEnded]
        return EventStream(store: self, start: start, kinds: kinds, userId: nil, pollInterval: pollInterval) { event in
            guard kinds.contains(event.kind), event.sessionKey != nil, let source = event.dataSource,
                dataSource.map(source.hasSameBytes(as:)) ?? true
            else { return nil }
            return event
        }
    }

    /// Starts or stops (`kind`) of `dataSource` and of `userId` (each `nil` for all).
    func notifications(
        kind: EventKind, dataSource: String?, userId: String?, after seq: Int64?, pollInterval: Duration
    ) async throws -> EventStream<SessionNotification> {
        let dataSource = try configuration.validator.optionalId(dataSource, field: .invalidDataSource)
        var start = seq ?? 0
        if seq == nil { start = try await latestEventSeq() }
        return EventStream(store: self, start: start, kinds: [kind], userId: userId, pollInterval: pollInterval) { event in
            guard event.kind == kind, let key = event.sessionKey, let source = event.dataSource,
                dataSource.map(source.hasSameBytes(as:)) ?? true
            else { return nil }
            let ended = kind == EventKind.sessionEnded
            return SessionNotification(
                sessionKey: key, dataSource: source, seq: event.seq,
                endState: ended ? event.payload["state"].flatMap(SessionState.init(rawValue:)) : nil,
                reason: ended ? event.payload["reason"] : nil)
        }
    }
}
