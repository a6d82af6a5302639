/// An owned resource that was released — its session ended, or the client released it —
/// as the `resource.released` event recorded it: what the owning service needs to delete
/// the real thing.
public struct ResourceRelease: Sendable, Hashable, Codable {
    /// The sequence number of the release's event; acknowledge through it once the
    /// resource is deleted.
    public var seq: Int64
    /// When the release was committed.
    public var releasedAt: Timestamp
    /// The key of the session that owned the resource.
    public var sessionKey: String
    /// The user of that session.
    public var userId: String?
    /// The data source of that session.
    public var dataSource: String?
    /// What sort of resource it is (``OwnedResource/kind``).
    public var kind: String
    /// The resource's name within its kind (``OwnedResource/name``).
    public var name: String
    /// Its size (``OwnedResource/bytes``).
    public var bytes: Int64
    /// When the session took ownership of it; `nil` for releases recorded by a build
    /// that did not log it.
    public var createdAt: Timestamp?
    /// Why it was released: `released by client`, or `session closed`, `session expired`
    /// or `session failed`; `nil` for releases recorded by a build that did not log it.
    public var reason: String?

    private enum CodingKeys: String, CodingKey {
        case seq, releasedAt, sessionKey, userId, dataSource, kind, name, bytes, createdAt, reason
    }

    /// Writes every field, absent ones as `null`, so readers of the JSON see one shape.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(seq, forKey: .seq)
        try container.encode(releasedAt, forKey: .releasedAt)
        try container.encode(sessionKey, forKey: .sessionKey)
        try container.encode(userId, forKey: .userId)
        try container.encode(dataSource, forKey: .dataSource)
        try container.encode(kind, forKey: .kind)
        try container.encode(name, forKey: .name)
        try container.encode(bytes, forKey: .bytes)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(reason, forKey: .reason)
    }

    /// The release read from a `resource.released` event; `nil` for any other event.
    init?(_ event: StoreEvent) {
        guard event.kind == EventKind.resourceReleased, let sessionKey = event.sessionKey,
            let kind = event.payload["kind"], let name = event.payload["name"]
        else { return nil }
        seq = event.seq
        releasedAt = event.at
        self.sessionKey = sessionKey
        userId = event.userId
        dataSource = event.dataSource
        self.kind = kind
        self.name = name
        bytes = event.payload["bytes"].flatMap { Int64($0) } ?? 0
        createdAt = event.payload["createdAt"].flatMap { Int64($0) }.map(Timestamp.init(milliseconds:))
        reason = event.payload["reason"]
    }
}

extension OwnedResource {
    /// The payload of the `resource.released` event that releases it.
    func releasePayload(reason: String) -> [String: String] {
        ["kind": kind, "name": name, "bytes": "\(bytes)", "createdAt": "\(createdAt.milliseconds)", "reason": reason]
    }
}

/// Every user's resource releases: unchecked calls for trusted code in the process. A
/// caller that is not trusted is served through ``SessionStore/acting(as:)``, whose
/// ``ScopedSessionStore`` makes the same calls for one principal.
extension SessionStore {
    /// The resources released by any process on the file — a session's end (a close, the
    /// sweeper of `sessionctl serve` or of another service, recovery) or
    /// ``releaseResource(key:kind:name:)`` — delivered at least once to a named, durable
    /// consumer, so the owning service deletes every real artifact even if it was down
    /// when the release happened.
    ///
    /// Iterating yields every release after the position the subscription acknowledged
    /// last, then each new one as it commits (see ``EventStream``). Acknowledge a release
    /// after the real thing is deleted: a release not acknowledged is delivered again by
    /// the next iteration, also after a restart of the process.
    ///
    /// ```swift
    /// let releases = try store.resourceReleases(subscription: "artifacts")
    /// for try await release in releases {
    ///     try deleteArtifact(session: release.sessionKey, kind: release.kind, name: release.name)
    ///     try await releases.acknowledge(through: release.seq)
    /// }
    /// ```
    ///
    /// The subscription is a ``DurableSubscription`` of that name: give it a name of its
    /// own. Releases older than ``SessionStoreConfiguration/eventRetention`` are pruned
    /// with the log, so a consumer must not stay away longer than that. Compare
    /// ``SessionStoreConfiguration/resourceReleaseHandler``, which is told in the
    /// releasing process only, at most once.
    ///
    /// - Throws: `INVALID_ARGUMENT.SUBSCRIPTION` for an invalid name.
    public func resourceReleases(subscription name: String, pollInterval: Duration = .milliseconds(50)) throws -> ResourceReleases {
        ResourceReleases(subscription: try subscription(named: name), pollInterval: pollInterval)
    }
}

/// See ``SessionStore/resourceReleases(subscription:pollInterval:)``.
public struct ResourceReleases: AsyncSequence, Sendable {
    /// The durable subscription that keeps the acknowledged position.
    public let subscription: DurableSubscription
    let pollInterval: Duration

    /// Starts, at the first call of `next()`, after the position acknowledged then.
    public func makeAsyncIterator() -> Iterator {
        Iterator(releases: self)
    }

    /// Releases after the acknowledged position, without waiting: up to `limit` of them,
    /// oldest first.
    ///
    /// - Throws: `INVALID_ARGUMENT.LIMIT` for a limit outside 1...10,000.
    public func listPending(limit: Int = 1000) async throws -> [ResourceRelease] {
        let events = try await subscription.listPendingEvents(limit: limit, filter: EventFilter(kind: EventKind.resourceReleased))
        return events.compactMap(ResourceRelease.init)
    }

    /// Records that every release up to `seq` is handled: they are not delivered again.
    /// Never moves backwards.
    public func acknowledge(through seq: Int64) async throws {
        try await subscription.acknowledge(through: seq)
    }

    /// The last sequence number acknowledged; 0 before the first acknowledgement.
    public func acknowledgedSeq() async throws -> Int64 {
        try await subscription.acknowledgedSeq()
    }

    /// Reads the acknowledged position at its first call, then follows the log.
    public struct Iterator: AsyncIteratorProtocol {
        let releases: ResourceReleases
        var stream: EventStream<ResourceRelease>.Iterator?

        /// The next release, waiting for one to be committed; `nil` once the task is
        /// cancelled.
        public mutating func next() async throws -> ResourceRelease? {
            if stream == nil {
                stream = try await releases.subscription.stream(
                    kinds: [EventKind.resourceReleased], pollInterval: releases.pollInterval, transform: { ResourceRelease($0) }
                ).makeAsyncIterator()
            }
            return try await stream?.next()
        }
    }
}
