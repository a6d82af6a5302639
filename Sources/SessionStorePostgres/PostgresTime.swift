import SessionStoreCore

/// The clock that decides time on a PostgreSQL store: expiry, abandonment, instance death,
/// and every timestamp written.
///
/// Several hosts share one database, and their wall clocks disagree. With the default,
/// ``database``, every transaction reads the database server's clock
/// (`clock_timestamp()`, sent with the transaction's first statement, and read after a
/// write's lock is held, so writes' times follow their commit order), and the hosts'
/// clocks play no part: a session expires at the same instant for all of them.
///
/// ```swift
/// // A test that moves time by hand: the configuration's clock replaces the database's.
/// var configuration = SessionStoreConfiguration(clock: testClock)
/// let store = try await SessionStore.open(postgres: uri, configuration: configuration, time: .configurationClock)
/// ```
public enum PostgresTime: Sendable, Hashable {
    /// The database server's clock, read in each transaction. The default.
    case database
    /// The configuration's ``SessionStoreConfiguration/clock`` instead of the database's:
    /// for tests with an injected clock. Every process sharing the store must then share
    /// that clock.
    case configurationClock
}

/// How a connection role gives its transactions their time.
enum TransactionClock: Sendable {
    case database
    case wall(any WallClock)

    init(_ time: PostgresTime, configuration: SessionStoreConfiguration) {
        switch time {
        case .database: self = .database
        case .configurationClock: self = .wall(configuration.clock)
        }
    }

    /// Whether the time is read from the database with each transaction's first statement.
    var readsDatabase: Bool {
        if case .database = self { return true }
        return false
    }

    /// The fixed time of a transaction starting now, `nil` when the database's is read.
    func fixedNow() -> Int64? {
        switch self {
        case .database: nil
        case .wall(let clock): clock.now()
        }
    }
}
