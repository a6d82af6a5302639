import SessionStore
import SessionStoreSQLite

/// A database file in its own temporary directory, with a manual clock, opened through
/// the public API.
final class TestStore: @unchecked Sendable {
    /// Where every test store's clock starts: a whole number of seconds.
    static let start: Int64 = 1_700_000_000_000

    /// Whole seconds of the real clock, `seconds` away from now: a start for stores whose
    /// file is also read on the real clock (`sessionctl`, the `sqlite3` views), which show
    /// a session expired once its expiry has passed in real time.
    static func realTime(offsetBy seconds: Int64 = 0) -> Int64 {
        (SystemWallClock().now() / 1_000 + seconds) * 1_000
    }

    let directory = TemporaryDirectory()
    /// Where this store's clock started.
    let start: Int64
    let clock: ManualWallClock
    var path: String { directory.path("sessions.sqlite") }

    init(start: Int64 = TestStore.start) {
        self.start = start
        clock = ManualWallClock(now: start)
    }

    /// Opens a store on the file; `configure` adjusts the configuration first.
    func open(_ configure: (inout SessionStoreConfiguration) -> Void = { _ in }) async throws -> SessionStore {
        var configuration = SessionStoreConfiguration(clock: clock)
        configure(&configuration)
        return try await SessionStore.open(path: path, configuration: configuration)
    }

    /// Opens a store on the file, runs `body` with it and closes it on every path: when
    /// `body` returns, and when it throws (a failed `#require` included).
    @discardableResult
    func withStore<T>(
        _ configure: (inout SessionStoreConfiguration) -> Void = { _ in },
        body: (SessionStore) async throws -> T
    ) async throws -> T {
        try await (try await open(configure)).closing(after: body)
    }

    /// Runs `body` on a separate read-only connection: what `sqlite3` would see.
    func inspect<T>(_ body: (Database) throws -> T) throws -> T {
        let database = try Database(path: path, configuration: DatabaseConfiguration(readOnly: true))
        return try body(database)
    }

    func count(_ sql: String, _ arguments: [DatabaseValue] = []) throws -> Int64 {
        try inspect { try $0.fetchInt64(sql: sql, arguments) ?? -1 }
    }

    /// The details column of `EXPLAIN QUERY PLAN` for `sql`, one line per step.
    func queryPlan(_ sql: String, _ arguments: [DatabaseValue] = []) throws -> [String] {
        try inspect { db in
            try db.fetchAll(sql: "EXPLAIN QUERY PLAN " + sql, arguments) { $0.string(3) }
        }
    }
}

extension SessionStore {
    /// Runs `body` with this store and closes it on every path: when `body` returns, and
    /// when it throws (a failed `#require` included). What every fixture's `withStore` does.
    func closing<T>(after body: (SessionStore) async throws -> T) async throws -> T {
        let value: T
        do {
            value = try await body(self)
        } catch {
            await close()
            throw error
        }
        await close()
        return value
    }
}
