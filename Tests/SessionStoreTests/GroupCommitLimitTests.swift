import SessionStore
import SessionStoreSQLite
import Testing

/// Group commit keeps per-request semantics: requests that share a transaction succeed or
/// fail alone.
@Suite struct GroupCommitLimitTests {
    @Test func hundredConcurrentOpensAgainstALimitOfNinety() async throws {
        let test = TestStore()
        let outcomes = try await test.withStore { $0.limits.maxSessions = 90 } body: { store in
            let outcomes = await withTaskGroup(of: Result<String, SessionStoreError>.self) { group in
                for index in 0..<100 {
                    group.addTask {
                        return await outcome { try await store.openSession(userId: "user-\(index)").key }
                    }
                }
                var outcomes: [Result<String, SessionStoreError>] = []
                for await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            return outcomes
        }

        let (opened, refusals) = outcomes.partitioned()
        #expect(opened.count == 90)
        #expect(Set(opened).count == 90)
        #expect(refusals.count == 10)
        #expect(refusals.allSatisfy { $0.code == SessionStoreError.Code.sessionsTotal })
        #expect(try test.count("SELECT count(*) FROM sessions") == 90)
        #expect(try test.count("SELECT count(*) FROM events WHERE kind = 'session.started'") == 90)
        #expect(try test.count("SELECT count(*) FROM events WHERE kind = 'session.refused'") == 10)
        for key in opened {
            #expect(try test.count("SELECT count(*) FROM sessions WHERE key = ?", [.text(key)]) == 1)
        }
    }
}
