import Foundation
import SessionStore
import Synchronization
import Testing

/// One follower per store serves every notification stream: a commit costs one read of
/// the log however many streams wait, a stream that goes away costs nothing at once, and
/// a slow stream reads the log itself and loses nothing. (That another process's commit
/// on the file arrives is `NotificationFollowerSQLiteTests`'.)
@Suite struct NotificationFollowerTests {
    typealias Kit = NotificationKit

    final class Counter: Sendable {
        private let value = Atomic<Int>(0)
        func increment() { value.add(1, ordering: .relaxed) }
        var count: Int { value.load(ordering: .relaxed) }
    }

    /// Polls `condition` until it holds; false when `limit` passes first (a guard against
    /// hangs, not a measurement).
    static func eventually(within limit: Duration = .seconds(30), _ condition: () -> Bool) async -> Bool {
        await MultiProcessSweepTests.eventually(within: limit, condition)
    }

    @Test(arguments: Backend.all)
    func twoHundredStreamsShareOneReadPerCommitAndCostNothingOnceCancelled(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let follower = store.eventFollower
            let start = try await store.latestEventSeq()
            let received = Counter()
            let streams = (0..<200).map { _ in
                Task {
                    do {
                        for try await _ in store.events(from: start, kinds: [EventKind.sessionStarted]) {
                            received.increment()
                        }
                    } catch {}
                }
            }
            #expect(await Self.eventually { follower.consumerCount == 200 }, "\(follower.consumerCount) streams registered")
            #expect(follower.runningTasks == 1)

            _ = try await store.openSession(userId: "first")
            #expect(await Self.eventually { received.count == 200 }, "\(received.count) of 200 streams got the first start")

            let readsBefore = follower.eventReads
            _ = try await store.openSession(userId: "second")
            #expect(await Self.eventually { received.count == 400 }, "\(received.count) of 400 deliveries")
            // A few more checks of the file find nothing new: idle streams read nothing.
            let checks = follower.changeChecks
            #expect(await Self.eventually { follower.changeChecks >= checks + 3 })
            #expect(follower.eventReads - readsBefore == 1, "one commit, 200 idle streams: \(follower.eventReads - readsBefore) reads")

            streams.forEach { $0.cancel() }
            for stream in streams {
                await stream.value
            }
            #expect(follower.consumerCount == 0)
            #expect(await Self.eventually { follower.runningTasks == 0 }, "the follower task did not end")
            let readsIdle = follower.eventReads
            let checksIdle = follower.changeChecks
            _ = try await store.openSession(userId: "third")
            #expect(follower.eventReads == readsIdle)
            #expect(follower.changeChecks == checksIdle)
            #expect(follower.runningTasks == 0)
        }
    }

    /// Leaving a `for try await` loop releases its iterator: the stream is removed at
    /// once, and the follower stops with the last one.
    @Test(arguments: Backend.all)
    func aReleasedIteratorIsRemovedAtOnce(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let follower = store.eventFollower
            _ = try await store.openSession(userId: "ada")
            for try await event in store.events(from: 0) {
                #expect(event.kind == EventKind.sessionStarted)
                #expect(follower.consumerCount == 1)
                break
            }
            #expect(follower.consumerCount == 0)
            #expect(await Self.eventually { follower.runningTasks == 0 })

            // Made and never iterated: removed when released too.
            do {
                let iterator = store.events(from: 0).makeAsyncIterator()
                #expect(follower.consumerCount == 1)
                withExtendedLifetime(iterator) {}
            }
            #expect(follower.consumerCount == 0)
        }
    }

    /// A stream that takes nothing while more events commit than its buffer holds reads
    /// the rest from the log: it gets every event, in order, once, like a fast one.
    @Test(arguments: Backend.all)
    func aSlowStreamReadsTheLogItselfAndLosesNothing(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let follower = store.eventFollower
            let total = follower.consumerCapacity + 600
            let start = try await store.latestEventSeq()
            let starts: Set<EventKind> = [EventKind.sessionStarted]
            let (gate, openGate) = AsyncStream.makeStream(of: Void.self)
            let slowCount = Counter()
            let slow = Task { () -> [Int64] in
                var seqs: [Int64] = []
                do {
                    for try await event in store.events(from: start, kinds: starts) {
                        seqs.append(event.seq)
                        slowCount.increment()
                        if seqs.count == 1 {
                            for await _ in gate { break }
                        }
                        if seqs.count == total { break }
                    }
                } catch {}
                return seqs
            }
            let fast = Kit.collect(total, of: store.events(from: start, kinds: starts), within: .seconds(120))
            #expect(await Self.eventually { follower.consumerCount == 2 })

            _ = try await store.openSession(userId: "u-0")
            #expect(await Self.eventually { slowCount.count == 1 })
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<8 {
                    group.addTask {
                        for index in stride(from: writer + 1, to: total, by: 8) {
                            _ = try await store.openSession(userId: "u-\(index)")
                        }
                    }
                }
                try await group.waitForAll()
            }
            let fastSeqs = try #require(try await fast.value, "the fast stream did not get every start").map(\.seq)

            let readsBeforeGate = follower.eventReads
            openGate.yield()
            let caughtUp = await Self.eventually(within: .seconds(120)) { slowCount.count == total }
            if !caughtUp { slow.cancel() }
            let slowSeqs = await slow.value
            #expect(caughtUp, "the slow stream got \(slowSeqs.count) of \(total)")
            // Nothing committed since: what it read after its buffer, it read itself.
            #expect(follower.eventReads > readsBeforeGate)
            let logged = try await store.listEvents(after: start, limit: 10_000, filter: EventFilter(kind: EventKind.sessionStarted))
            #expect(logged.count == total)
            #expect(fastSeqs == logged.map(\.seq))
            #expect(slowSeqs == logged.map(\.seq))
        }
    }

    /// Closing the store ends its streams with `STORAGE.CLOSED` and stops the follower
    /// before the connections close.
    @Test(arguments: Backend.all)
    func closingTheStoreEndsItsStreams(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        let store = try await test.open()
        let start = try await store.latestEventSeq()
        let stream = Task { () -> String in
            do {
                for try await _ in store.events(from: start) {}
                return "ended"
            } catch let error as SessionStoreError {
                return error.code.rawValue
            } catch {
                return "\(error)"
            }
        }
        #expect(await Self.eventually { store.eventFollower.consumerCount == 1 })
        await store.close()
        #expect(await stream.value == "STORAGE.CLOSED")
        #expect(store.eventFollower.runningTasks == 0)
        #expect(store.eventFollower.consumerCount == 0)

        // A stream made after the close ends the same way.
        var iterator = store.events(from: 0).makeAsyncIterator()
        await expectError(SessionStoreError.Code.storageClosed) { _ = try await iterator.next() }
    }
}
