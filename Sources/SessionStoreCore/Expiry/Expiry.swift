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

/// What `store_state` says about re-arming, read with every session row (four primary-key
/// lookups). See ``Expiry/effectiveExpireAt(stored:isLive:timeoutMs:lastAccessAt:rearm:)``.
package struct RearmState: Sendable, Hashable {
    /// `rearm_epoch`: when the last re-arm happened.
    package var epoch: Int64?
    /// `rearm_tick`: the tick re-armed expiries are rounded up to; 1 ms when missing.
    package var tick: Int64?
    /// `rearm_since`: only sessions whose expiry is later than this are re-armed; no
    /// bound when missing (an epoch an earlier version wrote).
    package var since: Int64?
    /// `serving_stopped_at`: the last serving process stopped cleanly at this time, and
    /// no process has opened the store since.
    package var servingStoppedAt: Int64?

    package init(epoch: Int64?, tick: Int64?, since: Int64?, servingStoppedAt: Int64?) {
        self.epoch = epoch
        self.tick = tick
        self.since = since
        self.servingStoppedAt = servingStoppedAt
    }
}

extension Expiry {
    /// The expiry a session has, the one every reader shows and the sweeper applies.
    ///
    /// ZooKeeper's rule: the time no serving process (one running the sweeper) was there
    /// does not count against sessions, yet no session once expired ever lives again.
    /// When the last serving process goes away, crashed or stopped, the next open records
    /// `rearm_epoch` (its time), `rearm_tick` and `rearm_since` (the last time a serving
    /// process was known alive). A live session with a timeout, not accessed since the
    /// epoch, whose expiry was later than `rearm_since`, expires at
    /// `max(stored, roundUp(epoch + timeout, tick))`; the sweeper writes that value when
    /// it meets the session due by its stored expiry. A session that was due before
    /// `rearm_since` keeps its expiry: it was already expired.
    ///
    /// Between a clean stop of the last serving process and the next open, a session due
    /// after the stop is suspended: `nil`, no expiry, until that open re-arms it. The
    /// `live_sessions` view computes the same in SQL.
    static func effectiveExpireAt(stored: Int64?, isLive: Bool, timeoutMs: Int64?, lastAccessAt: Int64, rearm: RearmState) -> Int64? {
        guard let stored, isLive, let timeoutMs else { return stored }
        var effective = stored
        if let epoch = rearm.epoch, lastAccessAt < epoch, stored > rearm.since ?? .min {
            effective = max(stored, Expiry(tick: rearm.tick ?? 1).expireAt(now: epoch, timeoutMs: timeoutMs))
        }
        if let stoppedAt = rearm.servingStoppedAt, effective > stoppedAt {
            return nil
        }
        return effective
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
