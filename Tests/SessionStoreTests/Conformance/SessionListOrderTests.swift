import SessionStore
import Testing

/// The orders a listing of sessions comes in (``SessionOrder``), page by page, and the
/// count of what a page left out, on a store holding live sessions with and without an
/// expiry, an overdue one (listed as expired) and a closed one.
@Suite struct SessionListOrderTests {
    /// The sessions, by what the test calls them, and the store they are in.
    struct Fixture {
        let test: StoreFixture
        var keys: [String: String] = [:]

        /// The names of `sessions`, in their order.
        func names(_ sessions: [Session]) -> [String] {
            sessions.map { session in keys.first { $0.value == session.key }?.key ?? session.key }
        }
    }

    /// cy-10m, ab-never, bo-5m, ab-20m, cy-1s (overdue two seconds later) and bo-closed,
    /// opened in that order.
    static func fixture(_ backend: Backend, _ body: (SessionStore, Fixture) async throws -> Void) async throws {
        var fixture = Fixture(test: try await StoreFixture(backend))
        try await fixture.test.withStore { store in
            let opened: [(String, String, SessionTimeout)] = [
                ("cy-10m", "cy", .after(.seconds(600))), ("ab-never", "ab", .never), ("bo-5m", "bo", .after(.seconds(300))),
                ("ab-20m", "ab", .after(.seconds(1200))), ("cy-1s", "cy", .after(.seconds(1))),
                ("bo-closed", "bo", .after(.seconds(60))),
            ]
            for (name, user, timeout) in opened {
                fixture.keys[name] = try await store.openSession(userId: user, timeout: timeout).key
                fixture.test.clock.advance(by: .milliseconds(10))
            }
            _ = try await store.closeSession(key: fixture.keys["bo-closed"] ?? "")
            fixture.test.clock.advance(by: .milliseconds(2_000))
            try await body(store, fixture)
        }
    }

    static func filter(_ states: SessionFilter.States, _ order: SessionOrder, userId: String? = nil) -> SessionFilter {
        var filter = SessionFilter(states: states, userId: userId, limit: 100)
        filter.order = order
        return filter
    }

    /// Each listing: which sessions, in which order, and the names it lists.
    static let orders: [(SessionFilter.States, SessionOrder, [String])] = [
        (SessionFilter.States.live, SessionOrder.created, ["cy-10m", "ab-never", "bo-5m", "ab-20m"]),
        (.live, .newest, ["ab-20m", "bo-5m", "ab-never", "cy-10m"]),
        (.live, .user, ["ab-never", "ab-20m", "bo-5m", "cy-10m"]),
        (.live, .expires, ["bo-5m", "cy-10m", "ab-20m", "ab-never"]),
        (.ended, .created, ["cy-1s", "bo-closed"]),
        (.ended, .newest, ["bo-closed", "cy-1s"]),
        (.ended, .expires, ["cy-1s", "bo-closed"]),
        (.only(.expired), .expires, ["cy-1s"]),
        (.only(.closed), .expires, ["bo-closed"]),
        (.all, .expires, ["cy-1s", "bo-5m", "cy-10m", "ab-20m", "ab-never", "bo-closed"]),
        (.all, .user, ["ab-never", "ab-20m", "bo-5m", "bo-closed", "cy-10m", "cy-1s"]),
        (.all, .newest, ["bo-closed", "cy-1s", "ab-20m", "bo-5m", "ab-never", "cy-10m"]),
    ]

    @Test(arguments: Backend.all, orders)
    func eachOrderListsInItsOrderWholeAndPageByPage(
        backend: Backend, listing: (states: SessionFilter.States, order: SessionOrder, expected: [String])
    ) async throws {
        let (states, order, expected) = listing
        try await Self.fixture(backend) { store, fixture in
            let whole = try await store.listSessionsCounting(Self.filter(states, order))
            #expect(fixture.names(whole.sessions) == expected)
            #expect(whole.total == expected.count)
            // One session a page, each page after the last key of the one before.
            var paged: [Session] = []
            var filter = Self.filter(states, order)
            filter.limit = 1
            while paged.count <= expected.count {
                let page = try await store.listSessionsCounting(filter)
                #expect(page.total == expected.count, "the count ignores the page's position")
                guard let last = page.sessions.last else { break }
                paged += page.sessions
                filter.after = last.key
            }
            #expect(fixture.names(paged) == expected)
        }
    }

    @Test(arguments: Backend.all)
    func theCountIsEveryMatchingSessionWhateverTheLimit(backend: Backend) async throws {
        try await Self.fixture(backend) { store, _ in
            for (states, userId, expected) in [
                (SessionFilter.States.live, nil, 4), (.ended, nil, 2), (.all, nil, 6), (.only(.expired), nil, 1),
                (.only(.closed), nil, 1), (.only(.idle), nil, 4), (.only(.active), nil, 0), (.only(.closing), nil, 0),
                (.live, "cy", 1), (.ended, "cy", 1), (.all, "ab", 2),
            ] as [(SessionFilter.States, String?, Int)] {
                var filter = Self.filter(states, .newest, userId: userId)
                filter.limit = 1
                let page = try await store.listSessionsCounting(filter)
                #expect(page.total == expected, "\(states) of \(userId ?? "everyone")")
                #expect(page.sessions.count == min(1, expected))
            }
        }
    }
}
