import Foundation
import SessionStore
import SessionStoreSQLite
import Synchronization
import Testing

/// Past `max-pending-writes` waiting writes (or `max-pending-reads` waiting reads), a call
/// fails at once with `STORAGE.OVERLOADED` and writes nothing, instead of queuing without
/// bound.
@Suite(.timeLimit(.minutes(2)))
struct QueueBoundsTests {
    /// Holds the connection that prepares the first statement containing `marker` after
    /// ``arm()``, until ``open()``: a writer or reader kept busy on purpose.
    final class Gate: Sendable {
        let marker: String
        private let armed = Mutex(false)
        private let held = Mutex(false)
        private let release = DispatchSemaphore(value: 0)

        init(marker: String) { self.marker = marker }

        var isHolding: Bool { held.withLock { $0 } }

        func arm() { armed.withLock { $0 = true } }

        func open() { release.signal() }

        func observe(_ sql: String) {
            guard sql.contains(marker) else { return }
            let hold = armed.withLock { armed -> Bool in
                defer { armed = false }
                return armed
            }
            guard hold else { return }
            held.withLock { $0 = true }
            release.wait()
        }
    }

    /// Polls until `condition` holds; false after `limit` (a guard against hangs, not a
    /// measurement).
    static func eventually(within limit: Duration = .seconds(60), _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while !condition() {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return true
    }

    @Test func aWritePastTheBoundIsRefusedAtOnceWithNothingWritten() async throws {
        let test = TestStore()
        let gate = Gate(marker: "INSERT INTO session_details")
        let bound = 3
        try await test.withStore {
            $0.maxPendingWrites = bound
            $0.statementObserver = { gate.observe($0) }
        } body: { store in
            let session = try await store.openSession(userId: "ada")
            gate.arm()
            async let blocked: Void = store.updateDetails(key: session.key, ["site": "s-1"])
            let writerHeld = await Self.eventually { gate.isHolding }
            #expect(writerHeld)

            let opened = try await withThrowingTaskGroup(of: String.self) { group in
                defer { gate.open() }
                for index in 0..<bound {
                    group.addTask { try await store.openSession(userId: "bob-\(index)").userId }
                }
                let queued = await Self.eventually { store.pendingWrites == bound }
                #expect(queued)
                let before = try SessionTestKit.tableCounts(test)
                let refusal = await expectError(SessionStoreError.Code.storageOverloaded) {
                    try await store.openSession(userId: "carol")
                }
                #expect(refusal?.category == .unavailable)
                #expect(try SessionTestKit.tableCounts(test) == before)
                gate.open()
                var opened: [String] = []
                for try await user in group { opened.append(user) }
                return opened.sorted()
            }
            try await blocked
            #expect(opened == ["bob-0", "bob-1", "bob-2"])
            #expect(try test.count("SELECT count(*) FROM sessions WHERE user_id = 'carol'") == 0)
            #expect(try test.count("SELECT count(*) FROM events WHERE user_id = 'carol'") == 0)
            // Drained: calls are taken again.
            _ = try await store.openSession(userId: "carol")
        }
    }

    @Test func aReadPastTheBoundIsRefusedAtOnce() async throws {
        let test = TestStore()
        let gate = Gate(marker: "executions.session_id = ? ORDER BY executions.id")
        let bound = 2
        try await test.withStore {
            $0.readerCount = 1
            $0.maxPendingReads = bound
            $0.statementObserver = { gate.observe($0) }
        } body: { store in
            let session = try await store.openSession(userId: "ada")
            gate.arm()
            async let blocked = store.listExecutions(key: session.key)
            let readerHeld = await Self.eventually { gate.isHolding }
            #expect(readerHeld)

            let listed = try await withThrowingTaskGroup(of: Int.self) { group in
                defer { gate.open() }
                for _ in 0..<bound {
                    group.addTask { try await store.listSessions().count }
                }
                let queued = await Self.eventually { store.pendingReads == bound }
                #expect(queued)
                let refusal = await expectError(SessionStoreError.Code.storageOverloaded) {
                    try await store.listSessions()
                }
                #expect(refusal?.category == .unavailable)
                gate.open()
                var listed: [Int] = []
                for try await count in group { listed.append(count) }
                return listed
            }
            #expect(try await blocked.isEmpty)
            #expect(listed == [1, 1])
            #expect(try await store.listSessions().count == 1)
        }
    }

    @Test func theBoundsAreOptionsWithSafeDefaults() throws {
        var configuration = SessionStoreConfiguration()
        #expect(configuration.maxPendingWrites == 10_000)
        #expect(configuration.maxPendingReads == 10_000)
        try configuration.set("max-pending-writes", to: "5")
        try configuration.set("max-pending-reads", to: "6")
        #expect(configuration.maxPendingWrites == 5 && configuration.maxPendingReads == 6)
        #expect(throws: SessionStoreError.self) { try configuration.set("max-pending-writes", to: "0") }
        #expect(throws: SessionStoreError.self) { try configuration.set("max-pending-reads", to: "-1") }
    }
}
