import CSQLite
import Foundation

/// One SQLite connection, configured by the storage rules of the project.
///
/// A `Database` is confined to the thread that uses it and is not `Sendable`; share a
/// ``DatabasePool`` instead, which owns connections on threads of its own.
///
/// ```swift
/// let db = try Database(path: "/tmp/example.sqlite")
/// try db.execute(sql: "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT) STRICT")
/// try db.execute(sql: "INSERT INTO t(name) VALUES (?)", ["ada"])
/// let names = try db.fetchAll(sql: "SELECT name FROM t") { $0.string(0) }
/// ```
///
/// Opening applies, in order: the file checks (a symbolic link is refused, so is a file
/// another user owns; a file of this user's that others may read is brought to mode 0600,
/// with its `-wal` and `-shm`), file creation with mode 0600 when missing, extended result
/// codes, the busy timeout, double-quoted string literals off, a probe that fails at once
/// with `SQLITE_NOTADB` for a file that is not a database (before anything is written
/// beside it), then WAL, `foreign_keys=ON` and the configured `synchronous` level.
public final class Database {
    /// The path the connection was opened on.
    public let path: String
    /// The options the connection was opened with.
    public let configuration: DatabaseConfiguration
    let handle: OpaquePointer
    /// Prepared statements by SQL text, bounded by the configuration's
    /// ``DatabaseConfiguration/maximumCachedStatements`` and
    /// ``DatabaseConfiguration/maximumCachedStatementBytes``.
    private var statementCache: StatementCache
    private var savepointDepth = 0
    /// Kept alive for as long as SQLite may call the connection's WAL hook with it.
    var walHookTarget: AnyObject?

    /// Opens the database at `path` and sets the connection up as described for
    /// ``Database``; throws `SQLITE_CANTOPEN`, `SQLITE_NOTADB` and the like.
    public init(path: String, configuration: DatabaseConfiguration = DatabaseConfiguration()) throws(SQLiteError) {
        self.path = path
        self.configuration = configuration
        statementCache = StatementCache(
            countLimit: configuration.maximumCachedStatements,
            byteLimit: configuration.maximumCachedStatementBytes)
        try Self.prepareFile(at: path, configuration: configuration)

        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE | SQLITE_OPEN_NOFOLLOW
        flags |= configuration.readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE
        var handle: OpaquePointer?
        let code = sqlite3_open_v2(Self.plainFilename(path), &handle, flags, nil)
        guard code == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_close_v2(handle)
            throw SQLiteError(code: ResultCode(rawValue: code), message: "cannot open \(path): \(message)")
        }
        self.handle = handle
        try configure()
    }

    deinit {
        statementCache.removeAll()
        sqlite3_close_v2(handle)
    }

    /// `path` as SQLite takes a plain file name: a relative path that begins with `file:`
    /// would be read as a URI (whose query parameters change how the file is opened) where
    /// URI names are enabled, so it is prefixed with `./`. Other paths are unchanged.
    static func plainFilename(_ path: String) -> String {
        path.hasPrefix("file:") ? "./" + path : path
    }

    /// Checks the file before SQLite opens it, and creates a missing one with mode 0600 so
    /// neither the database nor its `-wal` and `-shm` companions (which SQLite creates with
    /// the database file's mode) are ever readable by other users.
    ///
    /// A symbolic link is refused (SQLite would open and convert whatever it points to),
    /// and so is a file owned by another user when opening for writing. A file of this
    /// user's that others may read or write is brought to mode 0600, with its companions.
    private static func prepareFile(at path: String, configuration: DatabaseConfiguration) throws(SQLiteError) {
        guard !path.isEmpty, !path.contains("\0") else {
            throw SQLiteError(code: .cantOpen, message: "database path is empty or contains NUL")
        }
        if let status = try FileStatus(path) {
            try status.check(configuration: configuration)
            return
        }
        guard configuration.createIfMissing, !configuration.readOnly else {
            throw SQLiteError(code: .cantOpen, message: "no database file at \(path)")
        }
        let descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0o600)
        if descriptor < 0 {
            let reason = String(cString: strerror(errno))
            if errno == EEXIST, let status = try FileStatus(path) {
                try status.check(configuration: configuration)
                return
            }
            throw SQLiteError(code: .cantOpen, message: "cannot create database file at \(path): \(reason)")
        }
        close(descriptor)
    }

    private func configure() throws(SQLiteError) {
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, configuration.busyTimeoutMilliseconds)
        let code = csqlite_disable_double_quoted_strings(handle)
        guard code == SQLITE_OK else { throw lastError(code: code, sql: nil) }

        do {
            _ = try fetchOne(sql: "SELECT count(*) FROM sqlite_schema") { $0.int64(0) }
        } catch where error.code.primary == .notADatabase {
            throw SQLiteError(code: error.code, message: "\(path) is not an SQLite database")
        }

        try execute(sql: "PRAGMA foreign_keys = ON")
        if !configuration.readOnly {
            let mode = try fetchOne(sql: "PRAGMA journal_mode = WAL") { $0.string(0) }
            guard mode == "wal" else {
                throw SQLiteError(code: .error, message: "cannot switch \(path) to WAL (journal mode is \(mode ?? "unknown"))")
            }
            let level = configuration.durability == .full ? "FULL" : "NORMAL"
            try execute(sql: "PRAGMA synchronous = \(level)")
            let walLimit = configuration.walSizeLimit.map { max(0, $0) } ?? -1
            _ = try fetchOne(sql: "PRAGMA journal_size_limit = \(walLimit)") { $0.int64(0) }
            // Savepoint journals stay in memory. A group commit runs every request in a
            // savepoint inside one transaction, so each request journals the pages the
            // requests before it dirtied; on disk that is a temporary file written page
            // by page, which cost more than the requests' own SQL.
            try execute(sql: "PRAGMA temp_store = MEMORY")
        }
    }

    func lastError(code: Int32, sql: String?) -> SQLiteError {
        let extended = sqlite3_extended_errcode(handle)
        let resolved = (extended & 0xFF) == (code & 0xFF) ? extended : code
        return SQLiteError(
            code: ResultCode(rawValue: resolved),
            message: String(cString: sqlite3_errmsg(handle)),
            sql: sql)
    }

    // MARK: Statements

    /// A new statement, not cached. Prefer ``cachedStatement(sql:)`` for SQL that runs
    /// more than once.
    public func makeStatement(sql: String) throws(SQLiteError) -> Statement {
        configuration.statementObserver?(sql)
        return try Statement(database: self, sql: sql)
    }

    /// The connection's prepared statement for `sql`, prepared on first use and cached.
    ///
    /// The cache keeps at most ``DatabaseConfiguration/maximumCachedStatements``
    /// statements and ``DatabaseConfiguration/maximumCachedStatementBytes`` bytes of
    /// them, dropping the least recently used first. A statement dropped while the caller
    /// still holds it stays valid for that caller; a later call prepares a new one. A
    /// statement larger than the byte bound on its own is returned without being cached.
    public func cachedStatement(sql: String) throws(SQLiteError) -> Statement {
        if let statement = statementCache.statement(for: sql) {
            return statement
        }
        let statement = try makeStatement(sql: sql)
        statementCache.insert(statement)
        return statement
    }

    /// The number of statements the connection's cache holds.
    package var cachedStatementCount: Int { statementCache.count }

    /// The bytes of statement memory charged to the connection's cache, each statement
    /// measured when it was cached.
    package var cachedStatementBytes: Int { statementCache.bytes }

    /// Runs `body` with the cached statement for `sql`, bound to `arguments`. A statement
    /// that fails is evicted from the cache, so the next use prepares it afresh.
    private func withStatement<T>(
        sql: String, _ arguments: [DatabaseValue], _ body: (Statement) throws(SQLiteError) -> T
    ) throws(SQLiteError) -> T {
        let statement = try cachedStatement(sql: sql)
        // In use: a query `body` runs (a `map` reading more rows, say) may fill the cache,
        // and must not drop the statement stepping around it.
        statement.activeUses += 1
        defer {
            statement.activeUses -= 1
            statement.reset()
            // SQLite keeps a copy of every bound text and blob until the next bind; cleared
            // here, a cached statement holds only the memory the cache charged for it.
            statement.clearBindings()
        }
        do {
            try statement.bind(arguments)
            return try body(statement)
        } catch {
            statementCache.remove(statement)
            throw error
        }
    }

    /// Runs one statement to completion.
    public func execute(sql: String, _ arguments: [DatabaseValue] = []) throws(SQLiteError) {
        try withStatement(sql: sql, arguments) { statement throws(SQLiteError) in
            while try statement.step() {}
        }
    }

    /// Runs SQL text that may hold several statements, such as a migration file.
    public func executeScript(sql: String) throws(SQLiteError) {
        var message: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &message)
        if code != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_free(message)
            throw SQLiteError(code: ResultCode(rawValue: sqlite3_extended_errcode(handle)), message: text, sql: sql)
        }
    }

    /// Every row of the query, each turned into a value by `map`.
    public func fetchAll<T>(
        sql: String, _ arguments: [DatabaseValue] = [], map: (Row) throws(SQLiteError) -> T
    ) throws(SQLiteError) -> [T] {
        try withStatement(sql: sql, arguments) { statement throws(SQLiteError) in
            var results: [T] = []
            while try statement.step() {
                results.append(try map(statement.row))
            }
            return results
        }
    }

    /// The first row of the query turned into a value by `map`, or `nil` without rows.
    public func fetchOne<T>(
        sql: String, _ arguments: [DatabaseValue] = [], map: (Row) throws(SQLiteError) -> T
    ) throws(SQLiteError) -> T? {
        try withStatement(sql: sql, arguments) { statement throws(SQLiteError) in
            try statement.step() ? try map(statement.row) : nil
        }
    }

    /// The first column of the first row as an integer, or `nil` without rows or when NULL.
    public func fetchInt64(sql: String, _ arguments: [DatabaseValue] = []) throws(SQLiteError) -> Int64? {
        try fetchOne(sql: sql, arguments) { $0.optionalInt64(0) } ?? nil
    }

    /// Rows changed by the most recent INSERT, UPDATE or DELETE.
    public var changesCount: Int { Int(sqlite3_changes64(handle)) }

    /// Rows changed on this connection since it was opened.
    public var totalChangesCount: Int { Int(sqlite3_total_changes64(handle)) }

    /// The rowid of the most recent successful INSERT.
    public var lastInsertedRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// True while a transaction is open on this connection.
    public var isInsideTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    // MARK: Transactions

    /// The kinds of `BEGIN`: <https://www.sqlite.org/lang_transaction.html>.
    public enum TransactionKind: String, Sendable {
        /// Takes no lock until the first read or write. For reads.
        case deferred = "DEFERRED"
        /// Takes the write lock at once. Every write transaction uses it, so a busy
        /// writer is met at `BEGIN` (where the busy timeout applies) and never half-way
        /// through, where SQLite would have to fail with `SQLITE_BUSY` at once.
        case immediate = "IMMEDIATE"
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    public func inTransaction<T>(_ kind: TransactionKind = .immediate, _ body: () throws -> T) throws -> T {
        try execute(sql: "BEGIN \(kind.rawValue)")
        do {
            let result = try body()
            try execute(sql: "COMMIT")
            return result
        } catch {
            rollbackIfNeeded()
            throw error
        }
    }

    /// Runs `body` inside a savepoint: released when it returns, rolled back (leaving the
    /// enclosing transaction intact) when it throws. Savepoints nest.
    public func inSavepoint<T>(_ body: () throws -> T) throws -> T {
        savepointDepth += 1
        defer { savepointDepth -= 1 }
        let name = "sp\(savepointDepth)"
        try execute(sql: "SAVEPOINT \(name)")
        do {
            let result = try body()
            try execute(sql: "RELEASE \(name)")
            return result
        } catch {
            // Some errors (SQLITE_FULL, SQLITE_IOERR, ...) roll the whole transaction back
            // by themselves; there is then no savepoint left to return to.
            if isInsideTransaction {
                try? execute(sql: "ROLLBACK TO \(name)")
                try? execute(sql: "RELEASE \(name)")
            }
            throw error
        }
    }

    /// Rolls back the open transaction, if any.
    public func rollbackIfNeeded() {
        if isInsideTransaction {
            try? execute(sql: "ROLLBACK")
        }
    }
}
