/// Which sessions ``SessionStore/listSessions(_:)`` returns, oldest first.
///
/// ```swift
/// let page = try await store.listSessions(SessionFilter(states: .live, userId: "ada", limit: 50))
/// let next = try await store.listSessions(SessionFilter(states: .live, userId: "ada", limit: 50, after: page.last?.key))
/// ```
public struct SessionFilter: Sendable, Hashable {
    /// Which states to include.
    public enum States: Sendable, Hashable {
        /// `idle` and `active`.
        case live
        /// `closed`, `expired` and `failed`: tombstones.
        case ended
        case all
        case only(SessionState)
    }

    /// Which states to include.
    public var states: States
    /// Only this user's sessions; `nil` for every user.
    public var userId: String?
    /// Only sessions of this data source; `nil` for every one.
    public var dataSource: String?
    /// At most this many sessions; at most 10,000.
    public var limit: Int
    /// Return sessions created after the one with this key (the last of the previous
    /// page).
    public var after: String?
    /// The order of the listing; `after` continues in it. Oldest first unless set.
    package var order: SessionOrder = .created

    /// A filter of live sessions of every user and data source, 100 at a time, unless
    /// told otherwise.
    public init(states: States = .live, userId: String? = nil, dataSource: String? = nil, limit: Int = 100, after: String? = nil) {
        self.states = states
        self.userId = userId
        self.dataSource = dataSource
        self.limit = limit
        self.after = after
    }
}

/// The orders a listing of sessions may come in, each read in the order of an index, so a
/// page costs what it returns and not what it passes over.
package enum SessionOrder: String, Sendable, Hashable, CaseIterable {
    /// Oldest first: creation order (the row id).
    case created
    /// Newest first.
    case newest
    /// Soonest stored expiry first; then, in creation order, the sessions without one
    /// (those that never expire, and ended sessions).
    case expires
    /// By user id, each user's sessions oldest first.
    case user
}

extension SessionFilter.States {
    /// Whether a session in `state` (as readers see it) belongs to these states.
    package func includes(_ state: SessionState) -> Bool {
        switch self {
        case .live: state.isLive
        case .ended: state == .closed || state == .expired || state == .failed
        case .all: true
        case .only(let only): state == only
        }
    }

    /// Only live states: a backend's listing keeps out the rows whose stored expiry has
    /// passed (they are expired, not live).
    package var mayListLive: Bool {
        self == .live || self == .only(.idle) || self == .only(.active)
    }

    /// Ended states that include expired: a backend's listing takes in live rows whose
    /// stored expiry has passed, for the service layer to decide.
    package var mayListOverdue: Bool {
        self == .ended || self == .only(.expired)
    }

    /// Whether a session of these states may have a stored expiry: a live one, or an
    /// overdue one listed as expired.
    package var mayHaveExpiry: Bool {
        switch self {
        case .live, .ended, .all: true
        case .only(let state): state.isLive || state == .expired
        }
    }
}
