import Foundation
import Logging
import SessionStore
@testable import SessionStoreWeb
import Testing

/// The web view's parts that a browser does not show directly: values are escaped as they
/// enter a page, a query string reads as a form sends it, and every live stream is served
/// by one follower. The pages themselves are tested in a real browser
/// (`Tests/python/test_web_view.py`).
@Suite struct WebViewTests {
    @Test func anInterpolatedValueIsEscapedAndAFragmentIsNot() {
        let value = "<script>alert('1') & \"x\"</script>"
        let html: HTML = "<td>\(value)</td>\(HTML(trusted: "<b>kept</b>"))"
        #expect(html.text == "<td>&lt;script&gt;alert(&#39;1&#39;) &amp; &quot;x&quot;&lt;/script&gt;</td><b>kept</b>")
        #expect(HTML.query([("user", "a b&c"), ("source", nil), ("q", "")]) == "?user=a%20b%26c")
    }

    @Test func aQueryReadsAsAFormSendsIt() {
        let query = Query("user=a+b&q=%2B1%20&empty=&user=second&broken=%ZZ")
        #expect(query["user"] == "a b")
        #expect(query["q"] == "+1")
        #expect(query["empty"] == nil)
        #expect(query["broken"] == nil)
    }

    /// A hundred clients, twenty commits: every client receives every event in order, and
    /// the store's follower reads the log at most once per commit, as it would for one.
    @Test(.timeLimit(.minutes(2))) func aHundredClientsShareTheStoresOneFollower() async throws {
        let test = TestStore(start: TestStore.realTime())
        try await test.withStore { store in
            let broadcaster = EventBroadcaster(store: store, logger: Logger(label: "web-test"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await broadcaster.run() }
                #expect(await MultiProcessSweepTests.eventually(within: .seconds(30)) { broadcaster.isFollowing })
                let subscriptions = (0..<100).map { _ in broadcaster.join() }
                #expect(broadcaster.clientCount == 100)
                let readsBefore = store.eventFollower.eventReads
                var keys: [String] = []
                for number in 0..<20 {
                    keys.append(try await store.openSession(OpenSessionRequest(userId: "user-\(number % 3)")).key)
                }
                for subscription in subscriptions {
                    var seen: [String] = []
                    for await delivery in subscription.deliveries {
                        if case .event(let event) = delivery, event.kind == EventKind.sessionStarted, let key = event.sessionKey {
                            seen.append(key)
                        }
                        if seen.count == keys.count { break }
                    }
                    #expect(seen == keys)
                }
                let reads = store.eventFollower.eventReads - readsBefore
                #expect(reads <= keys.count + 1, "\(reads) reads of the log for \(keys.count) commits")
                #expect(store.eventFollower.consumerCount == 1)
                subscriptions.forEach(broadcaster.leave)
                #expect(broadcaster.clientCount == 0)
                group.cancelAll()
            }
        }
    }
}
