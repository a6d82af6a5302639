import CSQLite
import Foundation

/// A prepared statement: <https://www.sqlite.org/c3ref/stmt.html>.
///
/// Statements belong to the ``Database`` that prepared them and to the thread using it.
/// Most code never holds one: ``Database/execute(sql:_:)`` and the `fetch` methods take
/// them from the connection's cache.
public final class Statement {
    /// The SQL text the statement was prepared from.
    public let sql: String
    let handle: OpaquePointer
    unowned let database: Database
    /// When the connection's cache last handed the statement out (see ``StatementCache``);
    /// the least recent is dropped first.
    var lastUse: UInt64 = 0
    /// The bytes the cache charged for the statement when it added it.
    var cachedBytes = 0
    /// How many `Database` calls are stepping the statement now; the cache never drops a
    /// statement in use, so a nested query cannot push out the one iterating around it.
    var activeUses = 0

    init(database: Database, sql: String) throws(SQLiteError) {
        var handle: OpaquePointer?
        let code = sql.withCString { text in
            sqlite3_prepare_v3(database.handle, text, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &handle, nil)
        }
        guard code == SQLITE_OK, let handle else {
            throw database.lastError(code: code, sql: sql)
        }
        self.handle = handle
        self.sql = sql
        self.database = database
    }

    deinit {
        sqlite3_finalize(handle)
    }

    /// The number of `?` parameters in the SQL.
    public var parameterCount: Int {
        Int(sqlite3_bind_parameter_count(handle))
    }

    /// Resets the statement and binds `arguments` to its parameters, in order.
    ///
    /// A count that does not match the SQL's parameters is an `SQLITE_RANGE` error rather
    /// than a silent NULL.
    public func bind(_ arguments: [DatabaseValue]) throws(SQLiteError) {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        guard arguments.count == parameterCount else {
            throw SQLiteError(
                code: .range,
                message: "expected \(parameterCount) arguments, got \(arguments.count)",
                sql: sql)
        }
        for (offset, value) in arguments.enumerated() {
            try bind(value, at: Int32(offset + 1))
        }
    }

    private func bind(_ value: DatabaseValue, at index: Int32) throws(SQLiteError) {
        let code: Int32
        switch value {
        case .null:
            code = sqlite3_bind_null(handle, index)
        case .integer(let int):
            code = sqlite3_bind_int64(handle, index, int)
        case .real(let double):
            code = sqlite3_bind_double(handle, index, double)
        case .text(var string):
            // Bound with an explicit length so embedded NUL characters survive; an empty
            // buffer has no base address, which SQLite would bind as NULL.
            code = string.withUTF8 { bytes in
                guard let base = bytes.baseAddress else {
                    return sqlite3_bind_text(handle, index, "", 0, csqlite_transient)
                }
                return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                    sqlite3_bind_text64(handle, index, $0, UInt64(bytes.count), csqlite_transient, UInt8(SQLITE_UTF8))
                }
            }
        case .blob(let data):
            if data.isEmpty {
                code = sqlite3_bind_zeroblob(handle, index, 0)
            } else {
                code = data.withUnsafeBytes { bytes in
                    sqlite3_bind_blob64(handle, index, bytes.baseAddress, UInt64(bytes.count), csqlite_transient)
                }
            }
        }
        guard code == SQLITE_OK else {
            throw database.lastError(code: code, sql: sql)
        }
    }

    /// Advances to the next row: `true` when a row is available, `false` when done.
    @discardableResult
    public func step() throws(SQLiteError) -> Bool {
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW:
            return true
        case SQLITE_DONE:
            return false
        default:
            let error = database.lastError(code: code, sql: sql)
            sqlite3_reset(handle)
            throw error
        }
    }

    /// Resets the statement so it can run again and releases its read lock.
    public func reset() {
        sqlite3_reset(handle)
    }

    /// Virtual-machine steps run since the statement was prepared
    /// (`SQLITE_STMTSTATUS_VM_STEP`): a measure of the work a query does, independent of
    /// the machine's speed.
    public var virtualMachineSteps: Int {
        Int(sqlite3_stmt_status(handle, SQLITE_STMTSTATUS_VM_STEP, 0))
    }

    /// Rows visited by full table scans since the statement was prepared
    /// (`SQLITE_STMTSTATUS_FULLSCAN_STEP`); zero for a query that uses indexes only.
    public var fullScanSteps: Int {
        Int(sqlite3_stmt_status(handle, SQLITE_STMTSTATUS_FULLSCAN_STEP, 0))
    }

    /// The heap memory, in bytes, SQLite holds for the statement
    /// (`SQLITE_STMTSTATUS_MEMUSED`): its program and registers, and any values bound to
    /// its parameters until they are cleared or rebound.
    public var memoryUsed: Int {
        Int(sqlite3_stmt_status(handle, SQLITE_STMTSTATUS_MEMUSED, 0))
    }

    /// Releases the values bound to the parameters, which SQLite otherwise keeps (a
    /// copy of every text and blob) until the next ``bind(_:)``.
    public func clearBindings() {
        sqlite3_clear_bindings(handle)
    }

    /// The current row; valid until the next ``step()``.
    public var row: Row { Row(handle: handle) }
}

/// The current row of a stepping ``Statement``.
///
/// Columns are read by index; reading a NULL column as a non-optional value gives the
/// type's zero, so use the optional readers for nullable columns.
public struct Row {
    let handle: OpaquePointer

    /// The number of columns in the row.
    public var columnCount: Int { Int(sqlite3_column_count(handle)) }

    /// Whether column `index` (from 0) is `NULL`.
    public func isNull(_ index: Int) -> Bool {
        sqlite3_column_type(handle, Int32(index)) == SQLITE_NULL
    }

    /// Column `index` as a 64-bit integer; 0 for `NULL`.
    public func int64(_ index: Int) -> Int64 {
        sqlite3_column_int64(handle, Int32(index))
    }

    /// Column `index` as an `Int`; 0 for `NULL`.
    public func int(_ index: Int) -> Int {
        Int(sqlite3_column_int64(handle, Int32(index)))
    }

    /// Column `index` as a Boolean: true unless 0 or `NULL`.
    public func bool(_ index: Int) -> Bool {
        sqlite3_column_int64(handle, Int32(index)) != 0
    }

    /// Column `index` as a `Double`; 0 for `NULL`.
    public func double(_ index: Int) -> Double {
        sqlite3_column_double(handle, Int32(index))
    }

    /// Column `index` as UTF-8 text; empty for `NULL`.
    public func string(_ index: Int) -> String {
        let column = Int32(index)
        guard let text = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    /// Column `index` as bytes; empty for `NULL`.
    public func data(_ index: Int) -> Data {
        let column = Int32(index)
        guard let bytes = sqlite3_column_blob(handle, column) else { return Data() }
        return Data(bytes: bytes, count: Int(sqlite3_column_bytes(handle, column)))
    }

    /// Column `index` as a 64-bit integer, or `nil` for `NULL`.
    public func optionalInt64(_ index: Int) -> Int64? {
        isNull(index) ? nil : int64(index)
    }

    /// Column `index` as UTF-8 text, or `nil` for `NULL`.
    public func optionalString(_ index: Int) -> String? {
        isNull(index) ? nil : string(index)
    }

    /// Column `index` as bytes, or `nil` for `NULL`.
    public func optionalData(_ index: Int) -> Data? {
        isNull(index) ? nil : data(index)
    }

    /// The column as a ``DatabaseValue`` of its storage class.
    public func value(_ index: Int) -> DatabaseValue {
        switch sqlite3_column_type(handle, Int32(index)) {
        case SQLITE_INTEGER: .integer(int64(index))
        case SQLITE_FLOAT: .real(double(index))
        case SQLITE_TEXT: .text(string(index))
        case SQLITE_BLOB: .blob(data(index))
        default: .null
        }
    }

    /// The name of a result column.
    public func columnName(_ index: Int) -> String {
        sqlite3_column_name(handle, Int32(index)).map { String(cString: $0) } ?? ""
    }
}
