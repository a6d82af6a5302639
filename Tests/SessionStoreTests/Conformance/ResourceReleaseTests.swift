import Foundation
import SessionStore
import Testing

/// Resource releases reach their owner from the event log through a durable
/// subscription: at least once, from any process, also when the owner was down, and not
/// again once acknowledged. On every backend.
@Suite struct ResourceReleaseTests {
    typealias Kit = NotificationKit

    static func names(_ releases: [ResourceRelease]) -> [String] {
        releases.map { "\($0.kind)/\($0.name)" }
    }

    @Test(arguments: Backend.all)
    func releasesAreDeliveredUntilAcknowledgedAlsoAfterARestart(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        let delivered = try await test.withStore { store in
            let session = try await store.openSession(userId: "ada", dataSource: "ds1")
            let jar = try await store.addResource(key: session.key, kind: "artifact", name: "a.jar", bytes: 10)
            _ = try await store.addResource(key: session.key, kind: "artifact", name: "b.jar", bytes: 20)
            _ = try await store.addResource(key: session.key, kind: "view", name: "v1", bytes: 0)
            _ = try await store.releaseResource(key: session.key, kind: "view", name: "v1")
            _ = try await store.closeSession(key: session.key)

            let releases = try store.resourceReleases(subscription: "artifacts")
            let delivered = try #require(try await Kit.first(3, of: releases), "the releases did not arrive")
            #expect(Self.names(delivered) == ["view/v1", "artifact/a.jar", "artifact/b.jar"])
            #expect(delivered.allSatisfy { $0.sessionKey == session.key && $0.userId == "ada" && $0.dataSource == "ds1" })
            #expect(delivered.map(\.bytes) == [0, 10, 20])
            #expect(delivered.map(\.reason) == ["released by client", "session closed", "session closed"])
            #expect(delivered[1].createdAt == jar.createdAt)
            #expect(delivered.map(\.seq) == delivered.map(\.seq).sorted())
            #expect(try await releases.listPending().map(\.seq) == delivered.map(\.seq))

            // The owner deleted the first one only, then went down.
            try await releases.acknowledge(through: delivered[0].seq)
            return delivered
        }

        try await test.withStore { store in
            let releases = try store.resourceReleases(subscription: "artifacts")
            #expect(try await releases.acknowledgedSeq() == delivered[0].seq)
            #expect(try await releases.listPending().map(\.seq) == delivered.dropFirst().map(\.seq))
            let again = try #require(try await Kit.first(2, of: releases), "the unacknowledged releases did not arrive again")
            #expect(again == Array(delivered.dropFirst()))
            try await releases.acknowledge(through: again[1].seq)

            // Another name has its own position.
            #expect(try await store.resourceReleases(subscription: "audit").listPending().count == 3)
            await expectError(SessionStoreError.Code.invalidSubscription) { try store.resourceReleases(subscription: "") }
        }

        try await test.withStore { store in
            let releases = try store.resourceReleases(subscription: "artifacts")
            #expect(try await releases.listPending().isEmpty)
            // Live: only the new release, none of the acknowledged ones.
            let task = Kit.collect(1, of: releases)
            let session = try await store.openSession(userId: "bob")
            _ = try await store.addResource(key: session.key, kind: "artifact", name: "c.jar", bytes: 30)
            _ = try await store.closeSession(key: session.key)
            let live = try #require(try await task.value, "the new release did not arrive")
            #expect(Self.names(live) == ["artifact/c.jar"])
            #expect(live.first?.sessionKey == session.key)
        }
    }
}
