import SessionStoreCore

/// Options applied to every connection a ``Database`` or ``DatabasePool`` opens.
public struct DatabaseConfiguration: Sendable {
    /// Whether commits are synced to disk; see ``Durability``.
    public var durability: Durability
    /// How long a connection waits for another one's lock before failing with
    /// `SQLITE_BUSY`. SQLite takes whole milliseconds in an `Int32`: a longer wait is
    /// cut to `Int32.max` ms (about 24.8 days), a negative one to zero.
    public var busyTimeout: Duration
    /// Open without write access; the file must exist.
    public var readOnly: Bool
    /// Create the file (mode 0600) when it does not exist. Ignored when ``readOnly``.
    public var createIfMissing: Bool
    /// The size, in bytes, a read-write connection trims the WAL file back to when it
    /// starts the WAL over after a checkpoint copied all of it (`PRAGMA
    /// journal_size_limit`); nil leaves the file at its largest. The WAL grows far past
    /// its usual few MiB only while a reader holds an old snapshot, a `sqlite3` shell
    /// left inside a transaction say; this gives that disk space back afterwards.
    public var walSizeLimit: Int64?
    /// The most prepared statements a connection keeps cached; 512 by default. Past it the
    /// least recently used statement is dropped to make room (and finalized once no caller
    /// holds it), so SQL text that varies without end (an `IN` list as long as a
    /// request's, say) cannot pin memory for good. Zero or less caches nothing: every use
    /// prepares afresh.
    public var maximumCachedStatements: Int
    /// The most heap memory, in bytes, a connection's cached statements may hold; 8 MiB by
    /// default. Each statement is charged what SQLite reports for it
    /// (`SQLITE_STMTSTATUS_MEMUSED`) when it is cached; past the bound the least recently
    /// used statements are dropped to make room. A statement larger than this on its
    /// own is not cached: it is prepared afresh on every use and finalized after that use.
    /// Zero or less caches nothing. The bound applies to each connection of a pool.
    public var maximumCachedStatementBytes: Int
    /// Called with the SQL of every statement the connection prepares (once per cached
    /// statement, and again when one the cache dropped is needed again). The package's
    /// tests use it to check the query plan of each statement the store really runs.
    package var statementObserver: (@Sendable (String) -> Void)?
    /// Called when opening brought a file of this user's (the database, its `-wal` or
    /// `-shm`) that others could read or write to mode 0600: with its path and old mode.
    public var permissionsTightened: (@Sendable (_ path: String, _ oldMode: UInt32) -> Void)?

    /// Options with the given values; by default `normal` durability, a 5 s busy timeout,
    /// read-write, the file created when missing, the WAL trimmed back to 32 MiB (above
    /// the 16 MiB a pool lets it reach under a sustained writer), and at most 512 cached
    /// statements holding at most 8 MiB per connection.
    public init(
        durability: Durability = .normal,
        busyTimeout: Duration = .seconds(5),
        readOnly: Bool = false,
        createIfMissing: Bool = true,
        walSizeLimit: Int64? = 32 * 1024 * 1024,
        maximumCachedStatements: Int = 512,
        maximumCachedStatementBytes: Int = 8 * 1024 * 1024
    ) {
        self.durability = durability
        self.busyTimeout = busyTimeout
        self.readOnly = readOnly
        self.createIfMissing = createIfMissing
        self.walSizeLimit = walSizeLimit
        self.maximumCachedStatements = maximumCachedStatements
        self.maximumCachedStatementBytes = maximumCachedStatementBytes
    }
}

extension DatabaseConfiguration {
    /// ``busyTimeout`` as `sqlite3_busy_timeout` takes it: whole milliseconds clamped to
    /// `0...Int32.max`, for any `Duration`.
    var busyTimeoutMilliseconds: Int32 {
        if busyTimeout <= .zero { return 0 }
        if busyTimeout >= .milliseconds(Int32.max) { return .max }
        let (seconds, attoseconds) = busyTimeout.components
        return Int32(seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}
