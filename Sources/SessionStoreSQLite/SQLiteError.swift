/// An error reported by SQLite, or by this layer on SQLite's terms.
///
/// It carries the extended result code, SQLite's message and the SQL that failed, so a
/// log line says what went wrong and where:
///
/// ```swift
/// do {
///     try db.execute(sql: "INSERT INTO t(id) VALUES (1)")
/// } catch let error as SQLiteError where error.code == .constraintUnique {
///     print(error.message, error.sql ?? "")
/// }
/// ```
public struct SQLiteError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The extended result code.
    public var code: ResultCode
    /// The message SQLite gave (`sqlite3_errmsg`), or this layer's own.
    public var message: String
    /// The SQL being run when the error happened, if any.
    public var sql: String?

    /// An error with `code` and `message`, and the `sql` that failed when known.
    public init(code: ResultCode, message: String, sql: String? = nil) {
        self.code = code
        self.message = message
        self.sql = sql
    }

    /// The code's name and the message, then the first 200 characters of the SQL when
    /// known.
    public var description: String {
        var text = "\(code): \(message)"
        if let sql {
            text += " (while running: \(sql.prefix(200)))"
        }
        return text
    }
}
