import CLibPQ
import Foundation

/// A value bound to a statement parameter.
package enum PGValue: Sendable, Hashable, ExpressibleByNilLiteral, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case integer(Int64)
    case text(String)
    case bytes(Data)
    case null

    package init(nilLiteral: ()) { self = .null }
    package init(stringLiteral value: String) { self = .text(value) }
    package init(integerLiteral value: Int64) { self = .integer(value) }
    package init(_ value: Int64?) { self = value.map(PGValue.integer) ?? .null }
    package init(_ value: String?) { self = value.map(PGValue.text) ?? .null }
    package init(_ value: Data?) { self = value.map(PGValue.bytes) ?? .null }
    package init(_ value: Bool) { self = .integer(value ? 1 : 0) }
}

/// One connection to a PostgreSQL server through libpq, used by one thread at a time.
///
/// Statements are prepared once per connection (named after their text) and run with
/// `PQexecPrepared`; parameters are written `?` (numbered in order) or `?N` (the N-th
/// argument, for a value used twice), as in the SQLite layer, and sent as text (bytes as
/// binary). Results come back as text.
///
/// A transaction's `BEGIN` can be deferred (``deferBegin(_:)``): it is then sent in one
/// pipeline with the transaction's first statement, and a read-only transaction's
/// `COMMIT` can be sent without waiting for its answer (``commitWithoutWaiting()``), which
/// is read with the next statement's. A point read then costs one round trip to the
/// server, not three.
///
/// ```swift
/// let connection = try PGConnection(conninfo: "postgres://app@db/sessions")
/// let live = try connection.fetchInt64(sql: "SELECT count(*) FROM sessions WHERE user_id = ?", [.text("alice")])
/// ```
package final class PGConnection {
    var handle: OpaquePointer
    /// Prepared statement names by the SQL they were prepared from.
    private var prepared: [String: String] = [:]
    /// Rows changed by the last statement run through ``execute(sql:_:)``.
    package private(set) var changesCount = 0
    /// Statements of a deferred `BEGIN`, sent with the next statement.
    private var deferredBegin: [String] = []
    /// The index in ``deferredBegin`` of the statement that reads the database's time.
    private var timeIndex: Int?
    /// The database's time of the current transaction, once read.
    private var transactionTime: Int64?
    /// Why reading the transaction's time failed; its next statement throws it.
    package private(set) var timeFailure: PostgresError?
    /// Whether the current transaction appended events: only then do followers elsewhere
    /// need to hear of its commit.
    var appendedEvents = false
    /// Pipeline synchronization points sent whose results are not read yet (a `COMMIT`
    /// sent without waiting).
    private var unreadSyncs = 0
    /// The conninfo with any password removed, for messages.
    package let location: String

    /// Statements run on every new connection, the first and each after a reconnect.
    private let setup: String?
    /// Whether the connection's TCP options are this type's (the conninfo sets none).
    private let tunesSocket: Bool

    /// Connects with `conninfo`: a `postgres://` URI or `key=value` words, completed by the
    /// `PG*` environment variables and `~/.pgpass` as in `psql`; then runs `setup`.
    package init(conninfo: String, setup: String? = nil) throws(PostgresError) {
        location = PGConnection.redacted(conninfo)
        guard let handle = PQconnectdb(conninfo) else {
            throw PostgresError(unavailable: "libpq could not allocate a connection", location: PGConnection.redacted(conninfo))
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(handle)
            throw PostgresError(unavailable: "cannot connect to PostgreSQL at \(location): \(message)", location: location)
        }
        self.handle = handle
        self.setup = setup
        tunesSocket = !Self.setsTCPOptions(conninfo)
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
        if tunesSocket { Self.detectSilentPeers(socket: PQsocket(handle)) }
        if let setup { try executeScript(sql: setup) }
    }

    deinit {
        PQfinish(handle)
    }

    /// Whether the connection to the server is gone.
    package var isBroken: Bool { PQstatus(handle) != CONNECTION_OK }

    /// The socket, for waiting on notifications.
    package var socket: Int32 { PQsocket(handle) }

    /// The server's process id for this connection.
    package var backendPID: Int32 { PQbackendPID(handle) }

    /// Runs `sql` (one or several statements, no parameters) with the simple query protocol,
    /// after a deferred `BEGIN`.
    package func executeScript(sql: String) throws(PostgresError) {
        if let timeFailure { throw timeFailure }
        if !deferredBegin.isEmpty {
            do {
                _ = try runAfterBegin(sql: nil, [])
            } catch where error.isConnectionFailure {
                // Nothing of this transaction reached the server: connect again, begin there.
                try reconnect()
                _ = try runAfterBegin(sql: nil, [])
            }
        }
        try drain()
        guard let result = PQexec(handle, sql) else { throw failure(sql: sql, result: nil) }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY else {
            throw failure(sql: sql, result: result)
        }
    }

    /// Runs a statement that returns no rows; ``changesCount`` tells how many it changed.
    package func execute(sql: String, _ arguments: [PGValue] = []) throws(PostgresError) {
        let result = try run(sql: sql, arguments)
        defer { PQclear(result) }
        changesCount = Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    /// Runs a statement and maps every row.
    package func fetchAll<T>(sql: String, _ arguments: [PGValue] = [], map: (PGRow) throws -> T) throws -> [T] {
        let result = try run(sql: sql, arguments)
        defer { PQclear(result) }
        changesCount = Int(String(cString: PQcmdTuples(result))) ?? 0
        let count = PQntuples(result)
        var rows: [T] = []
        rows.reserveCapacity(Int(count))
        for index in 0..<count {
            rows.append(try map(PGRow(result: result, index: index)))
        }
        return rows
    }

    /// Runs a statement and maps its first row, `nil` when it returned none.
    package func fetchOne<T>(sql: String, _ arguments: [PGValue] = [], map: (PGRow) throws -> T) throws -> T? {
        let result = try run(sql: sql, arguments)
        defer { PQclear(result) }
        changesCount = Int(String(cString: PQcmdTuples(result))) ?? 0
        guard PQntuples(result) > 0 else { return nil }
        return try map(PGRow(result: result, index: 0))
    }

    /// The first column of the first row as an integer; `nil` when there is no row or it
    /// is `NULL`.
    package func fetchInt64(sql: String, _ arguments: [PGValue] = []) throws -> Int64? {
        try fetchOne(sql: sql, arguments) { $0.optionalInt64(0) } ?? nil
    }

    private func run(sql: String, _ arguments: [PGValue]) throws(PostgresError) -> OpaquePointer {
        if let timeFailure { throw timeFailure }
        if !deferredBegin.isEmpty {
            do {
                return try lastResult(of: runAfterBegin(sql: sql, arguments), sql: sql)
            } catch where error.isConnectionFailure {
                // Nothing of this transaction reached the server: connect again and begin
                // it there (a connection the server ended while it was idle).
                try reconnect()
                return try lastResult(of: runAfterBegin(sql: sql, arguments), sql: sql)
            }
        }
        let outsideTransaction = PQtransactionStatus(handle) == PQTRANS_IDLE && unreadSyncs == 0
        do {
            return try runAlone(sql: sql, arguments)
        } catch where error.isConnectionFailure && outsideTransaction {
            // A statement outside a transaction is a read of a backend's reader (the
            // store's writes all run in transactions): on a connection the server ended
            // while it was idle it is sent again, once, on a new one.
            try reconnect()
            return try runAlone(sql: sql, arguments)
        }
    }

    private func runAlone(sql: String, _ arguments: [PGValue]) throws(PostgresError) -> OpaquePointer {
        try drain()
        let name = try statementName(sql: sql)
        let result: OpaquePointer? = withParameters(arguments) { count, values, lengths, formats in
            PQexecPrepared(handle, name, count, values, lengths, formats, 0)
        }
        guard let result else { throw failure(sql: sql, result: nil) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            let error = failure(sql: sql, result: result)
            PQclear(result)
            throw error
        }
        return result
    }

    /// Sends the deferred `BEGIN` and the statement, when there is one, in one pipeline,
    /// reads what earlier pipelines left unread, then the answers of all; keeps the
    /// transaction's time when the deferred statements read it. Returns the statement's
    /// result.
    private func runAfterBegin(sql: String?, _ arguments: [PGValue]) throws(PostgresError) -> OpaquePointer? {
        if let sql, prepared[sql] == nil {
            try drain()
        }
        let name = try sql.map { sql throws(PostgresError) in try statementName(sql: sql) }
        if PQpipelineStatus(handle) == PQ_PIPELINE_OFF {
            guard PQenterPipelineMode(handle) == 1 else { throw failure(sql: sql, result: nil) }
        }
        for statement in deferredBegin {
            guard PQsendQueryParams(handle, statement, 0, nil, nil, nil, nil, 0) == 1 else {
                throw failure(sql: statement, result: nil)
            }
        }
        if let name {
            let sent = withParameters(arguments) { count, values, lengths, formats in
                PQsendQueryPrepared(handle, name, count, values, lengths, formats, 0)
            }
            guard sent == 1 else { throw failure(sql: sql, result: nil) }
        }
        guard PQpipelineSync(handle) == 1 else { throw failure(sql: sql, result: nil) }
        let begin = deferredBegin
        try readUnreadSyncs()
        // Kept until answered: when the connection is lost before, nothing of the
        // transaction ran, and a new connection begins it again.
        var results = try readUntilSync()
        deferredBegin = []
        defer { results.forEach { PQclear($0) } }
        guard PQexitPipelineMode(handle) == 1 else { throw failure(sql: sql, result: nil) }
        for (index, result) in results.enumerated() where PQresultStatus(result) == PGRES_FATAL_ERROR {
            throw failure(sql: index < begin.count ? begin[index] : sql, result: result)
        }
        guard results.count == begin.count + (sql == nil ? 0 : 1) else {
            throw PostgresError(sqlState: "XX000", message: "a pipeline answered \(results.count) results", sql: sql)
        }
        if let timeIndex, timeIndex < results.count {
            transactionTime = Self.time(of: results[timeIndex])
        }
        return sql == nil ? nil : results.popLast()
    }

    /// Whether the transaction's time is still to be read, with its next statement.
    package var timeRidesNextStatement: Bool {
        transactionTime == nil && timeFailure == nil && timeIndex != nil && !deferredBegin.isEmpty
    }

    /// The database's time of the current transaction: read with its first pipeline when
    /// ``deferBegin(_:readingTime:)`` asked for it, else read now, once per transaction.
    /// `nil` when it cannot be read; the transaction's next statement then throws why.
    package func databaseTime() -> Int64? {
        if let transactionTime { return transactionTime }
        if timeFailure != nil { return nil }
        do {
            if timeIndex != nil, !deferredBegin.isEmpty {
                do {
                    _ = try runAfterBegin(sql: nil, [])
                } catch where error.isConnectionFailure {
                    try reconnect()
                    _ = try runAfterBegin(sql: nil, [])
                }
            } else {
                let result = try run(sql: Self.timeSQL, [])
                defer { PQclear(result) }
                transactionTime = Self.time(of: result)
            }
        } catch {
            timeFailure = error
            return nil
        }
        if transactionTime == nil {
            timeFailure = PostgresError(sqlState: "XX000", message: "the server's clock could not be read", sql: Self.timeSQL)
        }
        return transactionTime
    }

    /// Defers `statements` (`BEGIN` and what must follow it at once): they are sent with
    /// the next statement, in one round trip. With `readingTime`, the database's time is
    /// read in the same round trip (``databaseTime()``). Starts a new transaction's time.
    package func deferBegin(_ statements: [String], readingTime: Bool = false) {
        deferredBegin = statements + (readingTime ? [Self.timeSQL] : [])
        timeIndex = readingTime ? statements.count : nil
        transactionTime = nil
        timeFailure = nil
        appendedEvents = false
    }

    /// Whether the deferred `BEGIN` was sent: false when the transaction ran no statement
    /// (and so has nothing to commit).
    package var hasBegun: Bool { deferredBegin.isEmpty }

    /// Forgets a deferred `BEGIN` that was never sent.
    package func cancelDeferredBegin() {
        deferredBegin = []
        timeIndex = nil
    }

    /// Sends `COMMIT` without waiting for its answer, which the connection's next use reads.
    /// For read-only transactions, whose commit cannot fail in a way the caller must see.
    package func commitWithoutWaiting() throws(PostgresError) {
        if PQpipelineStatus(handle) == PQ_PIPELINE_OFF {
            guard PQenterPipelineMode(handle) == 1 else { throw failure(sql: "COMMIT", result: nil) }
        }
        guard PQsendQueryParams(handle, "COMMIT", 0, nil, nil, nil, nil, 0) == 1, PQpipelineSync(handle) == 1 else {
            throw failure(sql: "COMMIT", result: nil)
        }
        unreadSyncs += 1
    }

    /// Reads what pipelines left unread and leaves pipeline mode.
    private func drain() throws(PostgresError) {
        guard unreadSyncs > 0 || PQpipelineStatus(handle) != PQ_PIPELINE_OFF else { return }
        try readUnreadSyncs()
        guard PQexitPipelineMode(handle) == 1 else { throw failure(sql: nil, result: nil) }
    }

    /// Reads the answers of earlier pipelines (a `COMMIT` sent without waiting); a failure
    /// among them belongs to a call that has returned, and only a lost connection matters.
    private func readUnreadSyncs() throws(PostgresError) {
        while unreadSyncs > 0 {
            let results = try readUntilSync()
            results.forEach { PQclear($0) }
            unreadSyncs -= 1
        }
    }

    /// The results up to the next synchronization point.
    private func readUntilSync() throws(PostgresError) -> [OpaquePointer] {
        var results: [OpaquePointer] = []
        while true {
            guard let result = PQgetResult(handle) else {
                if PQstatus(handle) != CONNECTION_OK {
                    results.forEach { PQclear($0) }
                    throw failure(sql: nil, result: nil)
                }
                continue
            }
            if PQresultStatus(result) == PGRES_PIPELINE_SYNC {
                PQclear(result)
                return results
            }
            results.append(result)
        }
    }

    /// Connects again with the same words (`PQreset`); prepared statements and unread
    /// answers are gone with the old connection.
    private func reconnect() throws(PostgresError) {
        PQreset(handle)
        prepared.removeAll()
        unreadSyncs = 0
        guard PQstatus(handle) == CONNECTION_OK else {
            throw PostgresError(unavailable: "cannot connect to PostgreSQL at \(location) again", location: location)
        }
        if tunesSocket { Self.detectSilentPeers(socket: PQsocket(handle)) }
        if let setup {
            guard let result = PQexec(handle, setup) else { throw failure(sql: setup, result: nil) }
            defer { PQclear(result) }
            guard PQresultStatus(result) == PGRES_COMMAND_OK else { throw failure(sql: setup, result: result) }
        }
    }

    private func statementName(sql: String) throws(PostgresError) -> String {
        if let name = prepared[sql] { return name }
        let name = "s\(prepared.count)"
        let text = PGConnection.numberedParameters(sql)
        guard let result = PQprepare(handle, name, text, 0, nil) else { throw failure(sql: sql, result: nil) }
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_COMMAND_OK else { throw failure(sql: sql, result: result) }
        prepared[sql] = name
        return name
    }

    /// Forgets prepared statements (after `DISCARD ALL` or a schema change).
    package func forgetPreparedStatements() {
        prepared.removeAll()
    }

    func failure(sql: String?, result: OpaquePointer?) -> PostgresError {
        let broken = PQstatus(handle) != CONNECTION_OK
        var sqlState: String?
        var message = String(cString: PQerrorMessage(handle))
        if let result {
            if let field = PQresultErrorField(result, Int32(UInt8(ascii: "C"))) {
                sqlState = String(cString: field)
            }
            if let field = PQresultErrorField(result, Int32(UInt8(ascii: "M"))) {
                message = String(cString: field)
            }
        }
        message = message.trimmingCharacters(in: .whitespacesAndNewlines)
        if broken || sqlState == nil && result == nil {
            return PostgresError(
                unavailable: "lost the connection to PostgreSQL at \(location): \(message)", location: location, sql: sql)
        }
        return PostgresError(sqlState: sqlState ?? "XX000", message: message, sql: sql)
    }
}
