extension Expiry {
    /// Whether a session is overdue at `now`: live, with an effective expiry
    /// (``effectiveExpireAt(stored:isLive:timeoutMs:lastAccessAt:rearmEpoch:rearmTick:)``)
    /// at or before `now`, the comparison the sweeper's selection makes. An overdue session
    /// is expired for every call whether or not a sweeper has ended it yet: reads show it
    /// expired, touches write nothing, operations answer `INVALID_HANDLE.SESSION_EXPIRED`.
    ///
    /// The one place this is decided in Swift; SQL filters use
    /// ``SessionRecords/notOverdueSQL`` and ``SessionRecords/mayBeOverdueSQL`` and leave
    /// the exact decision to this function.
    static func isOverdue(isLive: Bool, effectiveExpireAt: Int64?, at now: Int64) -> Bool {
        guard isLive, let effectiveExpireAt else { return false }
        return effectiveExpireAt <= now
    }
}

extension SessionRow {
    /// Whether this session is overdue at `now` (``Expiry/isOverdue(isLive:effectiveExpireAt:at:)``).
    func isOverdue(at now: Int64) -> Bool {
        Expiry.isOverdue(isLive: state.isLive, effectiveExpireAt: expireAt, at: now)
    }

    /// The row as every reader shows it at `now`: an overdue session as the sweeper would
    /// leave it (state `expired`, ended at its expiry, reason "expired", no expiry); any
    /// other row as stored.
    func seen(at now: Int64) -> SessionRow {
        guard isOverdue(at: now) else { return self }
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

extension SessionRecords.ExpiryProbe {
    /// Whether the probed session is overdue at `now` (``Expiry/isOverdue(isLive:effectiveExpireAt:at:)``).
    func isOverdue(at now: Int64) -> Bool {
        Expiry.isOverdue(isLive: isLive, effectiveExpireAt: expireAt, at: now)
    }
}
