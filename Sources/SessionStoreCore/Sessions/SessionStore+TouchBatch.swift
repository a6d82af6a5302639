
/// One key's answer in ``SessionStore/touch(keys:)``.
public struct KeyTouch: Sendable {
    /// The key as it was given.
    public var key: String
    /// What the touch found, as ``SessionStore/touch(key:)`` answers it; `nil` when the
    /// key is malformed (see ``error``).
    public var result: TouchResult?
    /// For a live session, its expiry after the touch; `nil` for one that never expires.
    public var expireAt: Timestamp?
    /// Why a malformed key was not looked up (`INVALID_HANDLE.FORMAT`).
    public var error: SessionStoreError?

    /// An answer for `key`.
    public init(key: String, result: TouchResult? = nil, expireAt: Timestamp? = nil, error: SessionStoreError? = nil) {
        self.key = key
        self.result = result
        self.expireAt = expireAt
        self.error = error
    }
}

extension SessionStore {
    /// The most keys one ``touch(keys:)`` takes.
    public static let maxTouchBatch = 1_000

    /// Records that many sessions are in use, in one storage round: ZooKeeper's followers
    /// send the sessions their clients touched to the leader in one packet per tick, and a
    /// service holding many client sessions renews them the same way.
    ///
    /// Each key is answered in order, as ``touch(key:)`` answers it, with the session's
    /// expiry when it is live. One read decides every key; the sessions whose bucket moves
    /// are written together in one transaction, and the others write nothing. A malformed
    /// key is answered with its error and does not fail the batch.
    ///
    /// ```swift
    /// for answer in try await store.touch(keys: heldKeys) where answer.result != .live {
    ///     forget(answer.key)  // closed, expired, unknown or malformed
    /// }
    /// ```
    ///
    /// - Throws: `INVALID_ARGUMENT.LIMIT` for more than ``maxTouchBatch`` keys.
    public func touch(keys: [String]) async throws -> [KeyTouch] {
        try await touch(keys: keys, scope: nil)
    }

    func touch(keys: [String], scope: AccessScope?) async throws -> [KeyTouch] {
        guard keys.count <= Self.maxTouchBatch else {
            throw SessionStoreError(
                code: .invalidLimit, message: "a batch touches at most \(Self.maxTouchBatch) keys (got \(keys.count))")
        }
        let started = ContinuousClock.now
        defer { metrics.operations.touch.record(since: started) }
        var answers = keys.map { KeyTouch(key: $0) }
        var wanted: [(index: Int, key: String)] = []
        wanted.reserveCapacity(keys.count)
        for (index, key) in keys.enumerated() {
            do {
                wanted.append((index, try configuration.validator.key(key)))
            } catch {
                answers[index].error = error
            }
        }
        guard !wanted.isEmpty else { return answers }

        let tick = configuration.expiry.tick
        let lookups = wanted.map(\.key)
        // The time of the read decides every key, and the write uses it.
        let (now, probes) = try await quickRead { db in
            let probes = try lookups.map { key throws in try db.sessions.expiryProbe(key: key, tick: tick, now: { db.now }) }
            return (db.now, probes)
        }
        let instant = configuration.expiryInstant(now)
        var moves: [(index: Int, id: Int64, expireAt: Int64)] = []
        for (position, probe) in probes.enumerated() {
            let index = wanted[position].index
            guard let probe, scope.allows(probe.userId) else {
                answers[index].result = .unknown
                continue
            }
            guard probe.isLive, !probe.isOverdue(at: instant) else {
                answers[index].result = TouchResult(notLive: probe.state)
                continue
            }
            answers[index].result = .live
            answers[index].expireAt = probe.expireAt.map(Timestamp.init(milliseconds:))
            if let expireAt = configuration.expiry.movedExpiry(now: now, timeoutMs: probe.timeoutMs, current: probe.expireAt) {
                moves.append((index, probe.id, expireAt))
            }
        }
        guard !moves.isEmpty else { return answers }

        let rows = moves.map { ($0.id, $0.expireAt) }
        let written = try await write { db in
            try rows.map { id, expireAt throws -> BatchTouchWrite in
                if try db.sessions.touch(sessionRowId: id, now: now, expireAt: expireAt) { return .moved }
                // The decision went stale: another touch moved the expiry further, or the
                // session ended since the read.
                return .notMoved(try db.sessions.state(sessionRowId: id))
            }
        }
        // A key given twice moves its session once: the second answer is the first's.
        var movedTo: [Int64: Int64] = [:]
        for (move, outcome) in zip(moves, written) {
            switch outcome {
            case .moved:
                movedTo[move.id] = move.expireAt
                answers[move.index].expireAt = Timestamp(milliseconds: move.expireAt)
            case .notMoved(nil):
                answers[move.index].result = .unknown
                answers[move.index].expireAt = nil
            case .notMoved(let state?) where !state.isLive:
                answers[move.index].result = TouchResult(notLive: state)
                answers[move.index].expireAt = nil
            case .notMoved:
                if let expireAt = movedTo[move.id] { answers[move.index].expireAt = Timestamp(milliseconds: expireAt) }
            }
        }
        return answers
    }
}

/// What the write of a batch touch did to one session.
private enum BatchTouchWrite: Sendable {
    case moved
    /// Not written; the session's state now (`nil`: gone).
    case notMoved(SessionState?)
}
