import Foundation
import SessionStore
import Testing

/// A storage backend the conformance suites run against. Every test of a conformance
/// suite takes one as its argument, so each runs once per backend in ``all``:
///
/// ```swift
/// @Test(arguments: Backend.all)
/// func aClosedSessionStaysClosed(backend: Backend) async throws {
///     let test = try await StoreFixture(backend)
///     try await test.withStore { store in … }
///     #expect(try test.inspector.count("sessions", where: ["state": "closed"]) == 1)
/// }
/// ```
///
/// A suite written this way says nothing about SQL or files: it reaches the store through
/// the public API and checks what was stored through a ``StoreInspector``.
struct Backend: Sendable, CustomStringConvertible, CustomTestStringConvertible {
    /// The backend's name in test output: `sqlite`, `postgres`.
    let name: String
    /// Makes a fresh, empty place for one test's store.
    let makeLocation: @Sendable () async throws -> any StoreLocation

    /// Every backend the conformance suites run against: SQLite and PostgreSQL, or those
    /// named in `SESSIONSTORE_TEST_BACKENDS` (`sqlite`, `postgres`, comma-separated) to
    /// run the suites on one.
    static let all: [Backend] = {
        let every: [Backend] = [.sqlite, .postgres]
        guard let names = ProcessInfo.processInfo.environment["SESSIONSTORE_TEST_BACKENDS"], !names.isEmpty else {
            return every
        }
        let chosen = Set(names.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        return every.filter { chosen.contains($0.name) }
    }()

    var description: String { name }
    var testDescription: String { name }
}

/// Where one test's store lives, and how to open it and look into it.
protocol StoreLocation: Sendable {
    /// Opens the store here with `configuration`; every call opens the same store.
    func open(configuration: SessionStoreConfiguration) async throws -> SessionStore
    /// Reads and arranges rows as another process would, beside any open store.
    var inspector: any StoreInspector { get }
}

/// A fresh store of one backend for one test, with a manual clock: the conformance
/// suites' counterpart of ``TestStore``.
final class StoreFixture: Sendable {
    /// Where every fixture's clock starts: a whole number of seconds.
    static let start: Int64 = TestStore.start

    let backend: Backend
    /// Where this store's clock started.
    let start: Int64
    let clock: ManualWallClock
    let location: any StoreLocation

    /// What the store holds, read (and arranged) beside it.
    var inspector: any StoreInspector { location.inspector }

    init(_ backend: Backend, start: Int64 = StoreFixture.start) async throws {
        self.backend = backend
        self.start = start
        clock = ManualWallClock(now: start)
        location = try await backend.makeLocation()
    }

    /// Opens a store; `configure` adjusts the configuration first.
    func open(_ configure: (inout SessionStoreConfiguration) -> Void = { _ in }) async throws -> SessionStore {
        var configuration = SessionStoreConfiguration(clock: clock)
        configure(&configuration)
        return try await location.open(configuration: configuration)
    }

    /// Opens a store, runs `body` with it and closes it on every path: when `body`
    /// returns, and when it throws (a failed `#require` included).
    @discardableResult
    func withStore<T>(
        _ configure: (inout SessionStoreConfiguration) -> Void = { _ in },
        body: (SessionStore) async throws -> T
    ) async throws -> T {
        try await (try await open(configure)).closing(after: body)
    }
}
