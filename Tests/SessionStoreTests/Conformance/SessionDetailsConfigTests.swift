import Foundation
import SessionStore
import Testing

/// Details (upserted key-values), config (each change an event) and the identifier, on
/// every backend.
@Suite struct SessionDetailsConfigTests {
    @Test(arguments: Backend.all)
    func updateDetailsInsertsAndReplacesAndRemoveDetailsDeletes(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada", details: ["a": "1", "b": "2"])
            let other = try await store.openSession(userId: "ada", details: ["a": "other"])

            try await store.updateDetails(key: session.key, ["b": "20", "c": "3"])
            #expect(try await store.session(key: session.key)?.details == ["a": "1", "b": "20", "c": "3"])
            #expect(try test.pairs("session_details", key: session.key) == ["a": "1", "b": "20", "c": "3"])
            #expect(try test.pairs("session_details", key: other.key) == ["a": "other"])
            let updated = try await store.listEvents(filter: EventFilter(sessionKey: session.key, kind: EventKind.detailsUpdated))
            #expect(updated.map(\.payload) == [["names": "b,c"]])

            try await store.removeDetails(key: session.key, names: ["a", "missing"])
            #expect(try test.pairs("session_details", key: session.key) == ["b": "20", "c": "3"])
            let removed = try await store.listEvents(filter: EventFilter(sessionKey: session.key, kind: EventKind.detailsRemoved))
            #expect(removed.map(\.payload) == [["names": "a"]])

            // Removing only names that are not set changes nothing and writes no event.
            try await store.removeDetails(key: session.key, names: ["missing"])
            #expect(try test.eventCount(kind: EventKind.detailsRemoved) == 1)
            #expect(try test.pairs("session_details", key: session.key) == ["b": "20", "c": "3"])
            #expect(try test.pairs("session_details", key: other.key) == ["a": "other"])
        }
    }

    @Test(arguments: Backend.all)
    func sameDetailUnderTwentyConcurrentWritersLosesNothingAndNeverFails(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada", details: ["color": "initial"])
            let key = session.key
            let values = (0..<20).map { "value-\($0)" }

            let outcomes = await withTaskGroup(of: Result<String, SessionStoreError>.self) { group in
                for value in values {
                    group.addTask {
                        await outcome {
                            try await store.updateDetails(key: key, ["color": value])
                            return value
                        }
                    }
                }
                var outcomes: [Result<String, SessionStoreError>] = []
                for await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            let succeeded = outcomes.compactMap { try? $0.get() }
            #expect(outcomes.count == 20)
            #expect(Set(succeeded) == Set(values), "failures: \(outcomes.filter { (try? $0.get()) == nil })")

            let final = try #require(try await store.session(key: key)?.details["color"])
            #expect(values.contains(final))
            #expect(try test.pairs("session_details", key: key) == ["color": final])
            #expect(try test.eventCount(kind: EventKind.detailsUpdated, key: key) == 20)
            #expect(try await store.checkIntegrity().isHealthy)
        }
    }

    @Test(arguments: Backend.all)
    func twentyConcurrentWritersOfDifferentNamesAllLand(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada")
            let key = session.key

            let failures = await withTaskGroup(of: SessionStoreError?.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        let result = await outcome { try await store.updateDetails(key: key, ["name-\(index)": "value-\(index)"]) }
                        if case .failure(let error) = result { return error }
                        return nil
                    }
                }
                var failures: [SessionStoreError] = []
                for await failure in group { if let failure { failures.append(failure) } }
                return failures
            }
            #expect(failures.isEmpty)
            let expected = Dictionary(uniqueKeysWithValues: (0..<20).map { ("name-\($0)", "value-\($0)") })
            #expect(try await store.session(key: key)?.details == expected)
            #expect(try test.pairs("session_details", key: key) == expected)
            #expect(try test.eventCount(kind: EventKind.detailsUpdated, key: key) == 20)
        }
    }

    @Test(arguments: Backend.all)
    func setConfigWritesOneEventPerChangedNameWithOldAndNew(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada", config: ["a": "1"])
            // Config set at open is not a change event.
            #expect(try test.eventCount(kind: EventKind.configChanged) == 0)

            let changed = try await store.setConfig(key: session.key, ["a": "1", "c": "3", "b": "2"])
            #expect(changed == ["b", "c"])
            var events = try await store.listEvents(filter: EventFilter(sessionKey: session.key, kind: EventKind.configChanged))
            #expect(events.map(\.payload) == [["name": "b", "new": "2"], ["name": "c", "new": "3"]])
            #expect(events.allSatisfy { $0.userId == "ada" && $0.dataSource == "default" })

            let seen = events.last?.seq ?? 0
            #expect(try await store.setConfig(key: session.key, ["a": "9", "b": "2"]) == ["a"])
            events = try await store.listEvents(after: seen, filter: EventFilter(sessionKey: session.key, kind: EventKind.configChanged))
            #expect(events.map(\.payload) == [["name": "a", "old": "1", "new": "9"]])
            // The stored payload is the JSON object the event shows.
            let payloads = try test.inspector.values("payload", of: "events", where: ["kind": .text(EventKind.configChanged.rawValue)])
            let decoded = try payloads.compactMap(\.text).map { text in
                try JSONDecoder().decode([String: String].self, from: Data(text.utf8))
            }
            #expect(decoded.filter { $0 == ["name": "a", "old": "1", "new": "9"] }.count == 1)

            // Nothing changes: no names, no events, no rows touched.
            let before = try test.inspector.tableCounts()
            #expect(try await store.setConfig(key: session.key, ["a": "9", "b": "2", "c": "3"]) == [])
            #expect(try await store.setConfig(key: session.key, [:]) == [])
            #expect(try test.inspector.tableCounts() == before)
            #expect(try test.eventCount(kind: EventKind.configChanged, key: session.key) == 3)

            #expect(try test.pairs("session_config", key: session.key) == ["a": "9", "b": "2", "c": "3"])
            #expect(try await store.session(key: session.key)?.config == ["a": "9", "b": "2", "c": "3"])
            // Details and config are separate namespaces.
            #expect(try await store.session(key: session.key)?.details == [:])
        }
    }

    @Test(arguments: Backend.all)
    func updateIdentifierRecordsOldAndNew(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(userId: "ada")

            try await store.updateIdentifier(key: session.key, "first")
            try await store.updateIdentifier(key: session.key, "second")
            try await store.updateIdentifier(key: session.key, "second")  // unchanged: no event
            #expect(try await store.session(key: session.key)?.identifier == "second")
            #expect(
                try test.inspector.count("sessions", where: ["key": .text(session.key), "identifier": "second"]) == 1)

            try await store.updateIdentifier(key: session.key, nil)
            #expect(try await store.session(key: session.key)?.identifier == nil)
            #expect(
                try test.inspector.count("sessions", where: ["key": .text(session.key), "identifier": nil]) == 1)

            let events = try await store.listEvents(
                filter: EventFilter(sessionKey: session.key, kind: EventKind.identifierChanged))
            #expect(
                events.map(\.payload) == [
                    ["new": "first"],
                    ["old": "first", "new": "second"],
                    ["old": "second"],
                ])
        }
    }
}
