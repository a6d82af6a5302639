/// How a commit reaches the disk: <https://www.sqlite.org/pragma.html#pragma_synchronous>.
public enum Durability: String, Sendable, CaseIterable, Codable {
    /// `synchronous=NORMAL` in WAL mode: a commit survives a crash of the process; the
    /// last commits may be lost if the machine loses power.
    case normal
    /// `synchronous=FULL`: the WAL is synced on every commit, so a commit survives power
    /// loss too. Group commit keeps this affordable under concurrency.
    case full
}

/// Options applied to every connection a ``Database`` or ``DatabasePool`` opens.
public struct DatabaseConfiguration: Sendable {
    /// Whether commits are synced to disk; see ``Durability``.
    public var durability: Durability
    /// How long a connection waits for another one's lock before failing with
    /// `SQLITE_BUSY`.
    public var busyTimeout: Duration
    /// Open without write access; the file must exist.
    public var readOnly: Bool
    /// Create the file (mode 0600) when it does not exist. Ignored when ``readOnly``.
    public var createIfMissing: Bool
    /// Called with the SQL of every statement the connection prepares (once per cached
    /// statement). The package's tests use it to check the query plan of each statement
    /// the store really runs.
    package var statementObserver: (@Sendable (String) -> Void)?

    /// Options with the given values; by default `normal` durability, a 5 s busy timeout,
    /// read-write, and the file created when missing.
    public init(
        durability: Durability = .normal,
        busyTimeout: Duration = .seconds(5),
        readOnly: Bool = false,
        createIfMissing: Bool = true
    ) {
        self.durability = durability
        self.busyTimeout = busyTimeout
        self.readOnly = readOnly
        self.createIfMissing = createIfMissing
    }
}
