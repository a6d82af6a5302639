/// The instant at which calls judge expiry, with the one policy that decides it besides
/// time: whether a session with an attached running execution is spared
/// (``SessionStoreConfiguration/runningSessionsDoNotExpire``), as the sweeper spares it.
package struct ExpiryInstant: Sendable {
    /// Milliseconds since the Unix epoch.
    package let now: Int64
    /// Whether an `active` session is spared when its expiry passes.
    package let sparesActive: Bool
}

extension SessionStoreConfiguration {
    /// The instant `now`, judged by this configuration's expiry policy.
    func expiryInstant(_ now: Int64) -> ExpiryInstant {
        ExpiryInstant(now: now, sparesActive: runningSessionsDoNotExpire)
    }
}

extension Expiry {
    /// Whether a session is overdue at `instant`: live, with an effective expiry
    /// (``effectiveExpireAt(stored:isLive:timeoutMs:lastAccessAt:rearm:)``)
    /// at or before it — the comparison the sweeper's selection makes — and not an
    /// `active` session the sweeper would spare. An overdue session is expired for every
    /// call whether or not a sweeper has ended it yet: reads show it expired, touches write
    /// nothing, operations answer `INVALID_HANDLE.SESSION_EXPIRED`.
    ///
    /// The one place this is decided in Swift; SQL filters use
    /// ``SessionRecords/notOverdueSQL`` and ``SessionRecords/mayBeOverdueSQL`` and leave
    /// the exact decision to this function.
    static func isOverdue(state: SessionState, effectiveExpireAt: Int64?, at instant: ExpiryInstant) -> Bool {
        guard state.isLive, let effectiveExpireAt, effectiveExpireAt <= instant.now else { return false }
        return !(instant.sparesActive && state == .active)
    }
}

extension SessionRow {
    /// Whether this session is overdue at `instant` (``Expiry/isOverdue(state:effectiveExpireAt:at:)``).
    package func isOverdue(at instant: ExpiryInstant) -> Bool {
        Expiry.isOverdue(state: state, effectiveExpireAt: expireAt, at: instant)
    }

    /// The row as every reader shows it at `instant`: an overdue session as the sweeper
    /// would leave it (state `expired`, ended at its expiry, reason "expired", no expiry);
    /// any other row as stored.
    package func seen(at instant: ExpiryInstant) -> SessionRow {
        guard isOverdue(at: instant) else { return self }
        var expired = self
        expired.state = .expired
        expired.endedAt = expireAt
        expired.endReason = SessionRow.expiredReason
        expired.expireAt = nil
        return expired
    }

    /// The end reason of a session ended by expiry, whoever ends it.
    static let expiredReason = "expired"
}

extension ExpiryProbe {
    /// Whether the probed session is overdue at `instant` (``Expiry/isOverdue(state:effectiveExpireAt:at:)``).
    func isOverdue(at instant: ExpiryInstant) -> Bool {
        Expiry.isOverdue(state: state, effectiveExpireAt: expireAt, at: instant)
    }
}
