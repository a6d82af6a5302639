/// ZooKeeper's expiry arithmetic: expiry times are rounded up to whole ticks, so all
/// sessions due in one tick are swept together and a touch within the same tick moves
/// nothing.
struct Expiry: Sendable {
    /// The bucket width in milliseconds, at least 1.
    let tick: Int64

    init(tick: Int64) {
        self.tick = max(1, tick)
    }

    /// `roundUp(now + timeout, tick)`, saturating at the largest tick below `Int64.max`.
    func expireAt(now: Int64, timeoutMs: Int64) -> Int64 {
        let (sum, overflow) = now.addingReportingOverflow(timeoutMs)
        let latest = Int64.max - Int64.max % tick
        guard !overflow, sum <= latest - tick else { return latest }
        let remainder = sum % tick
        return remainder == 0 ? sum : sum - remainder + tick
    }

    /// Where an access at `now` moves a session's expiry: the bucket of `now + timeout`
    /// when it is later than `current`, `nil` when the access writes nothing (the bucket
    /// is not later, or the session never expires). The one rule for every access — a
    /// touch and every call that counts as one — so a late access never moves expiry
    /// backwards. Callers read `now` once and use it for both the decision and the write.
    func movedExpiry(now: Int64, timeoutMs: Int64?, current: Int64?) -> Int64? {
        guard let timeoutMs, let current else { return nil }
        let moved = expireAt(now: now, timeoutMs: timeoutMs)
        return moved > current ? moved : nil
    }
}

extension Expiry {
    /// The expiry a session has, the one every reader shows and the sweeper applies.
    ///
    /// Re-arming after a recovery or the storm guard is lazy: both only record
    /// `rearm_epoch` and the tick they used. A live session with a timeout whose last
    /// access is older than the epoch expires at `max(stored, roundUp(epoch + timeout,
    /// tick))`; the sweeper writes that value when it meets the session due by its
    /// stored expiry. Every other session's expiry is the stored one. The
    /// `live_sessions` view computes the same in SQL (migration 0010).
    static func effectiveExpireAt(
        stored: Int64?, isLive: Bool, timeoutMs: Int64?, lastAccessAt: Int64, rearmEpoch: Int64?, rearmTick: Int64?
    ) -> Int64? {
        guard let stored, isLive, let timeoutMs, let rearmEpoch, lastAccessAt < rearmEpoch else { return stored }
        return max(stored, Expiry(tick: rearmTick ?? 1).expireAt(now: rearmEpoch, timeoutMs: timeoutMs))
    }
}

extension SessionStoreConfiguration {
    /// The timeout a session gets for `requested`: the default when `nil`, clamped to
    /// [``minTimeout``, ``maxTimeout``]; `nil` when it never expires.
    ///
    /// Negative timeouts are refused (`INVALID_ARGUMENT.TIMEOUT`); zero is raised to the
    /// minimum, and one beyond `Int64` milliseconds lowered to the maximum; `never`
    /// becomes the maximum when ``allowNeverTimeout`` is off.
    func negotiateTimeout(_ requested: SessionTimeout?) throws(SessionStoreError) -> Int64? {
        switch requested ?? defaultTimeout {
        case .never:
            return allowNeverTimeout ? nil : maxTimeoutMs
        case .after(let duration):
            guard duration >= .zero else {
                throw SessionStoreError.invalidArgument(.invalidTimeout, "timeout must not be negative (got \(duration))")
            }
            return min(max(duration.wholeMilliseconds, minTimeoutMs), maxTimeoutMs)
        }
    }

    var expiry: Expiry { Expiry(tick: tickMs) }

    var validator: Validator { Validator(limits: limits) }
}
