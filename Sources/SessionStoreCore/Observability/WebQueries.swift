import Foundation

/// What the operator's web view (`SessionStoreWeb`) reads in one call each, every query
/// bounded and read through an index: the overview's figures, a page of sessions in an
/// indexed order with a bounded text search, and which events a principal may see.

/// The store-wide figures of the web view's overview, read in one transaction.
package struct StoreOverview: Sendable {
    /// A user among the newest live sessions, with its exact live count.
    package struct UserCount: Sendable, Hashable {
        package var userId: String
        package var live: Int64
    }

    /// A live session that expires soon.
    package struct Expiring: Sendable, Hashable {
        package var key: String
        package var userId: String
        package var dataSource: String
        package var expireAt: Timestamp
    }

    /// The time the figures were read, by the store's clock.
    package var now: Timestamp
    /// Live sessions by data source and state, as ``MetricsSnapshot/sessions`` counts them.
    package var liveByDataSource: [MetricsSnapshot.SessionCount]
    /// The users of the newest ``SessionStore/overviewUserSample`` live sessions, most live first.
    package var liveByUser: [UserCount]
    /// Live sessions in the store, whatever their user, from the stored counts.
    package var liveTotal: Int64
    /// Opens refused in the last hour, by error code (from the newest
    /// ``SessionStore/overviewEventSample`` refusals).
    package var refusalsLastHour: [MetricsSnapshot.Total]
    /// The live sessions that expire first, soonest first.
    package var expiringNext: [Expiring]
    /// The time since the last sweep pass of any process; `nil` before the first.
    package var sweeperLag: Duration?
    /// Events appended per second over the last minute (from the newest
    /// ``SessionStore/overviewEventSample`` events: at most that many a minute are seen).
    package var eventsPerSecond: Double
    /// The newest event's sequence number.
    package var lastEventSeq: Int64
}

extension SessionStore {
    /// How many of the newest live sessions the overview reads for its users.
    package static let overviewUserSample = 2_000
    /// The most users the overview lists.
    package static let overviewUserLimit = 20
    /// How many of the newest events the overview reads for its rates.
    package static let overviewEventSample = 1_000

    /// The overview's figures. Cost: bounded index reads — the newest
    /// ``overviewUserSample`` live sessions, one stored count per user listed, the newest
    /// ``overviewEventSample`` events and refusals, the first ten sessions by expiry.
    package func overview() async throws -> StoreOverview {
        let configuration = self.configuration
        return try await read { db in
            let now = db.now
            let instant = configuration.expiryInstant(now)
            var newest = SessionFilter(states: .live, limit: Self.overviewUserSample)
            newest.order = .newest
            var users: [String: Int] = [:]
            for position in try db.listing.page(newest, after: nil, now: now, limit: Self.overviewUserSample) {
                users[position.row.userId, default: 0] += 1
            }
            let sampled = users.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                .prefix(Self.overviewUserLimit)
            let liveByUser = try sampled.map { user, _ in
                StoreOverview.UserCount(userId: user, live: try db.sessions.liveCount(scope: "user", name: user))
            }
            var expiring = SessionFilter(states: .live, limit: 10)
            expiring.order = .expires
            let expiringNext = try db.listing.page(expiring, after: nil, now: now, limit: 10).compactMap { position in
                position.storedExpireAt.map {
                    StoreOverview.Expiring(
                        key: position.row.key, userId: position.row.userId, dataSource: position.row.dataSource,
                        expireAt: Timestamp(milliseconds: $0))
                }
            }
            let hourAgo = now - 3_600_000
            var refusals: [String: Int64] = [:]
            let refused = try db.events.read(
                after: 0, limit: Self.overviewEventSample, filter: EventFilter(kind: EventKind.sessionRefused), userId: nil,
                newestFirst: true)
            for event in refused where event.at.milliseconds >= hourAgo {
                refusals[event.payload["code"] ?? "unknown", default: 0] += 1
            }
            let recent = try db.events.read(
                after: 0, limit: Self.overviewEventSample, filter: EventFilter(), userId: nil, newestFirst: true)
            let lastMinute = recent.lazy.filter { $0.at.milliseconds >= now - 60_000 }.count
            let byDataSource = try Self.liveSessionCounts(db, at: instant)
            let lastPass = try db.storeState.value(.sweepLastPassAt)
            return StoreOverview(
                now: Timestamp(milliseconds: now), liveByDataSource: byDataSource, liveByUser: liveByUser,
                liveTotal: byDataSource.reduce(0) { $0 + $1.count },
                refusalsLastHour: refusals.sorted { $0.key < $1.key }.map { MetricsSnapshot.Total(label: $0.key, total: $0.value) },
                expiringNext: expiringNext, sweeperLag: lastPass.map { .milliseconds(max(0, now - $0)) },
                eventsPerSecond: Double(lastMinute) / 60, lastEventSeq: try db.events.lastSequence())
        }
    }
}

/// A page of the web view's sessions table.
package struct SessionSearchPage: Sendable {
    /// The sessions shown, in the filter's order.
    package var sessions: [Session]
    /// The key to continue after for the next page; `nil` on the last page.
    package var next: String?
    /// Sessions the text search read to fill the page (0 without text).
    package var scanned: Int
}

extension ScopedSessionStore {
    /// The store the view reads, for store-wide figures shown only in the trusted view.
    package var unscopedStore: SessionStore { store }

    /// `event` as this view may show it; `nil` when the principal may not see it (an
    /// event of another user, or a store-wide one without a user).
    package func visible(_ event: StoreEvent) -> StoreEvent? {
        guard let scope else { return event }
        guard let user = event.userId, scope.allows(user) else { return nil }
        return shown(event)
    }

    /// The most sessions a text search reads for one page.
    package static let searchScanLimit = 10_000

    /// One page of sessions matching `filter` (its order, limit and `after` included) and,
    /// when `text` is not empty, containing `text` in the key, user, data source, client
    /// session id or identifier. Without text it is ``listSessions(_:)``. With text the
    /// listing is read in the filter's indexed order, at most ``searchScanLimit`` rows,
    /// and only the rows that match are loaded; ``SessionSearchPage/next`` continues
    /// after the last row read.
    package func searchSessions(_ filter: SessionFilter, text: String) async throws -> SessionSearchPage {
        let needle = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard !needle.isEmpty else {
            var probe = filter
            probe.limit = filter.limit + 1
            let sessions = try await listSessions(probe)
            let shown = Array(sessions.prefix(filter.limit))
            return SessionSearchPage(sessions: shown, next: sessions.count > filter.limit ? shown.last?.key : nil, scanned: 0)
        }
        let configuration = store.configuration
        let scope = self.scope
        var normalized = filter
        normalized.userId = try user(filter.userId)
        normalized.dataSource = try configuration.validator.optionalId(filter.dataSource, field: .invalidDataSource)
        let after = try filter.after.map { (key) throws in try configuration.validator.key(key) }
        let listing = normalized
        return try await store.read { db in
            let instant = configuration.expiryInstant(db.now)
            var position: SessionListPosition?
            if let after {
                let row = try Access.row(db, key: after, scope: scope)
                position = SessionListPosition(row: row, storedExpireAt: try db.listing.storedExpiry(rowId: row.id))
            }
            var found: [Session] = []
            var scanned = 0
            var batch = listing
            batch.limit = 500
            while found.count < listing.limit, scanned < Self.searchScanLimit {
                let page = try db.listing.page(batch, after: position, now: instant.now, limit: batch.limit)
                for entry in page {
                    scanned += 1
                    position = entry
                    let row = entry.row.seen(at: instant)
                    guard listing.states.includes(row.state), Self.row(row, contains: needle) else { continue }
                    found.append(try db.sessions.load(row, scope: scope))
                    if found.count == listing.limit { break }
                }
                guard page.count == batch.limit else {
                    return SessionSearchPage(sessions: found, next: nil, scanned: scanned)
                }
            }
            return SessionSearchPage(sessions: found, next: position?.row.key, scanned: scanned)
        }
    }

    /// Whether `row`'s key, user, data source, client session id or identifier contains
    /// `needle` (lower case), ignoring case.
    private static func row(_ row: SessionRow, contains needle: String) -> Bool {
        [row.key, row.userId, row.dataSource, row.clientSessionId ?? "", row.identifier ?? ""]
            .contains { $0.lowercased().contains(needle) }
    }
}
