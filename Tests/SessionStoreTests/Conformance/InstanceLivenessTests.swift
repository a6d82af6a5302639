import Foundation
import SessionStore
import Testing

/// Instances of several hosts on one store: when one of another host is dead (by its
/// heartbeat, on the store's clock), that a live one recovers its work exactly once, and
/// that a restart of every host re-arms the sessions once.
@Suite struct InstanceLivenessTests {
    static let timeout: Int64 = 30_000

    static func configure(_ configuration: inout SessionStoreConfiguration, host: String) {
        configuration.instanceHost = host
        configuration.instanceTimeout = .milliseconds(timeout)
        configuration.tick = .milliseconds(100)
    }

    /// An instance of another host with a running execution: alive while its heartbeats
    /// arrive, however slowly, and recovered once when they stop for the instance timeout.
    @Test(arguments: Backend.all)
    func anotherHostsInstanceIsRecoveredOnceWhenItsHeartbeatStops(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { Self.configure(&$0, host: "host-a") } body: { store in
            try await store.beginServing()
            let session = try await store.openSession(userId: "ada", timeout: .after(.seconds(3600)))
            let execution = try await store.createExecution(key: session.key, statement: "select 1")
            try await store.setExecutionStatus(key: session.key, operationId: execution.operationId, to: .started)
            let other = try test.leaveInstance(host: "host-b", pid: 4242, serving: true)
            #expect(try test.inspector.update("executions", set: ["instance_id": .integer(other)], where: [:]) == 1)

            // Slow heartbeats, each within the timeout: never dead.
            for _ in 0..<3 {
                test.clock.advance(by: .milliseconds(Self.timeout - 1))
                #expect(try await store.recoverGoneInstances() == nil)
                #expect(try test.inspector.update("instances", set: ["heartbeat_at": .integer(test.clock.now())], where: ["id": .integer(other)]) == 1)
            }
            let lastHeartbeat = test.clock.now()
            test.clock.advance(by: .milliseconds(Self.timeout))
            #expect(try await store.recoverGoneInstances() == nil, "dead at exactly the timeout")

            test.clock.advance(by: .milliseconds(1))
            let report = try #require(try await store.recoverGoneInstances())
            #expect(report.instances.map(\.id) == [other])
            #expect(report.instances.map(\.host) == ["host-b"])
            #expect(report.instances.map(\.pid) == [4242])
            #expect(report.instances.map(\.lastHeartbeat) == [Timestamp(milliseconds: lastHeartbeat)])
            #expect(report.failedExecutions == 1)
            #expect(try await store.execution(key: session.key, operationId: execution.operationId)?.status == .failed)
            #expect(try test.inspector.count("instances", where: ["id": .integer(other)]) == 0)
            #expect(try await store.recoverGoneInstances() == nil, "recovered twice")

            let events = try await store.listEvents(after: 0, limit: 100, filter: EventFilter(kind: EventKind.storeRecovered))
            #expect(events.count == 1)
            #expect(events.first?.payload["instance"] == "\(other)")
            #expect(events.first?.payload["host"] == "host-b")
            #expect(events.first?.payload["pid"] == "4242")
            #expect(events.first?.payload["recoveredBy"]?.hasSuffix("@host-a") == true)
            #expect(events.first?.payload["rearmEpoch"] == nil, "host A serves on: no time without a server")
        }
    }

    /// Every host of three crashes at once, then each restarts: each finds its own dead
    /// instance by pid. Only the last, when no instance that served before the crash is
    /// left alive, re-arms the sessions, once; the session that fell due in between is
    /// live again for a full timeout, not expired by the first host back.
    @Test(arguments: Backend.all)
    func aRestartOfEveryHostReArmsTheSessionsOnce(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        let key = try await test.withStore { Self.configure(&$0, host: "seed") } body: { store in
            try await store.openSession(userId: "ada", timeout: .after(.seconds(3))).key
        }
        let crashedAt = test.clock.now()
        let hosts = ["host-x", "host-y", "host-z"]
        for host in hosts {
            try test.leaveInstance(host: host, pid: TestStore.impossiblePid, heartbeatAt: crashedAt, serving: true)
        }
        test.clock.advance(by: .seconds(5))
        var stores: [SessionStore] = []
        var rearms: [Timestamp] = []
        for host in hosts {
            let store = try await test.open { Self.configure(&$0, host: host) }
            stores.append(store)
            #expect(store.recovery?.instances.map(\.host) == [host])
            if let epoch = store.recovery?.rearmEpoch { rearms.append(epoch) }
            try await store.beginServing()
            test.clock.advance(by: .seconds(1))
        }
        #expect(rearms == [Timestamp(milliseconds: crashedAt + 7_000)], "re-armed at \(rearms)")
        #expect(try test.storeState("rearm_epoch") == crashedAt + 7_000)
        let session = try await stores[0].session(key: key)
        #expect(session?.state.isLive == true)
        #expect(try await stores[1].sweep().expiredSessions.isEmpty)
        for store in stores {
            await store.close()
        }
    }
}
