import SessionStore
import SessionStoreSQLite
import Synchronization
import Testing

/// What SQLite runs for a bound: the statements a store prepares, read through
/// `statementObserver`. The bounds themselves run on every backend in
/// `Conformance/InputBoundsTests`.
@Suite struct InputBoundsSQLiteTests {
    /// Releasing one resource of many is one indexed delete: no statement of the release
    /// reads the session's other resources.
    @Test func releasingAResourceDoesNotReadTheOthers() async throws {
        let test = TestStore()
        let statements = StatementLog()
        try await test.withStore { $0.statementObserver = { statements.record($0) } } body: { store in
            let session = try await store.openSession(userId: "ada")
            for index in 0..<20 {
                try await store.addResource(key: session.key, kind: "view", name: "v\(index)", bytes: 1)
            }
            statements.clear()
            try await store.releaseResource(key: session.key, kind: "view", name: "v7")
            let touched = statements.all.filter { $0.contains("session_resources") }
            #expect(touched.allSatisfy { $0.contains("DELETE") }, "\(touched)")
            #expect(try test.count("SELECT count(*) FROM session_resources") == 19)
        }
    }
}

/// The SQL of the statements a store prepared, in order.
final class StatementLog: Sendable {
    private let statements = Mutex<[String]>([])

    var all: [String] { statements.withLock { $0 } }

    func record(_ sql: String) { statements.withLock { $0.append(sql) } }

    func clear() { statements.withLock { $0.removeAll() } }
}
