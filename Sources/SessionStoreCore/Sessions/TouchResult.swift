/// What ``SessionStore/touch(key:)`` found, so a caller can answer without a second,
/// racing read.
public enum TouchResult: String, Sendable, Hashable, Codable, CaseIterable {
    /// The session is live; the access was recorded (or fell in the bucket already
    /// recorded).
    case live
    /// No session has that key (or its tombstone was pruned).
    case unknown
    /// The session is closing, or ended other than by expiry (closed, failed).
    case closed
    /// The session expired: its expiry passed (whether or not a sweeper has ended it
    /// yet), or it was ended by expiry. Nothing was written.
    case expired

    /// Whether the session is live.
    public var isLive: Bool { self == .live }
}

extension TouchResult {
    /// What a touch answers for a session that is not live at the time of the touch, in
    /// stored state `state`.
    init(notLive state: SessionState) {
        self = state == .expired || state.isLive ? .expired : .closed
    }
}
