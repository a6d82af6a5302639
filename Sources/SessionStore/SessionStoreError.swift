import SessionStoreSQLite

/// The one error type of the library: a stable code and a message for people.
///
/// Codes follow Spark's style (`GROUP.DETAIL`) and never change meaning once shipped:
///
/// ```swift
/// do {
///     _ = try await store.openSession(userId: "ada", sessionId: "s1")
/// } catch let error as SessionStoreError where error.code == SessionStoreError.Code.sessionClosed {
///     // ask the client to reconnect
/// }
/// ```
///
/// `STORAGE.*` errors carry SQLite's extended result code and the SQL that failed.
public struct SessionStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable code such as `INVALID_HANDLE.SESSION_CLOSED`.
    public let code: String
    /// What happened, for a person.
    public let message: String
    /// For `STORAGE.*` errors: SQLite's extended result code.
    public let sqliteCode: Int32?
    /// For `STORAGE.*` errors: the SQL that failed.
    public let sql: String?

    public init(code: String, message: String, sqliteCode: Int32? = nil, sql: String? = nil) {
        self.code = code
        self.message = message
        self.sqliteCode = sqliteCode
        self.sql = sql
    }

    public var description: String { "\(code): \(message)" }

    /// The codes this library uses. README's "Error codes" section says when each
    /// happens and what to do.
    public enum Code {
        public static let sessionNotFound = "INVALID_HANDLE.SESSION_NOT_FOUND"
        public static let sessionClosed = "INVALID_HANDLE.SESSION_CLOSED"
        public static let sessionAlreadyExists = "INVALID_HANDLE.SESSION_ALREADY_EXISTS"
        public static let handleFormat = "INVALID_HANDLE.FORMAT"
        public static let operationNotFound = "INVALID_HANDLE.OPERATION_NOT_FOUND"
        public static let operationAlreadyExists = "INVALID_HANDLE.OPERATION_ALREADY_EXISTS"
        public static let operationAbandoned = "INVALID_HANDLE.OPERATION_ABANDONED"
        public static let operationNotReattachable = "INVALID_HANDLE.OPERATION_NOT_REATTACHABLE"
        public static let queryNotFound = "INVALID_HANDLE.STREAMING_QUERY_NOT_FOUND"
        public static let queryAlreadyExists = "INVALID_HANDLE.STREAMING_QUERY_ALREADY_EXISTS"
        public static let resourceNotFound = "INVALID_HANDLE.RESOURCE_NOT_FOUND"
        public static let resourceAlreadyExists = "INVALID_HANDLE.RESOURCE_ALREADY_EXISTS"
        public static let invalidTransition = "INVALID_TRANSITION"
        public static let executionsPerSession = "LIMIT_EXCEEDED.EXECUTIONS_PER_SESSION"
        public static let streamingQueriesPerSession = "LIMIT_EXCEEDED.STREAMING_QUERIES_PER_SESSION"
        public static let resourceBytesPerSession = "LIMIT_EXCEEDED.RESOURCE_BYTES_PER_SESSION"
        public static let invalidArgument = "INVALID_ARGUMENT"
        public static let linkCycle = "INVALID_ARGUMENT.LINK_CYCLE"
        public static let sessionsTotal = "LIMIT_EXCEEDED.SESSIONS_TOTAL"
        public static let sessionsPerUser = "LIMIT_EXCEEDED.SESSIONS_PER_USER"
        public static let sessionsPerAddress = "LIMIT_EXCEEDED.SESSIONS_PER_ADDRESS"
        public static let sessionsPerUserAddress = "LIMIT_EXCEEDED.SESSIONS_PER_USER_ADDRESS"
        public static let sessionsPerDataSource = "LIMIT_EXCEEDED.SESSIONS_PER_DATA_SOURCE"
        public static let detailsPerSession = "LIMIT_EXCEEDED.DETAILS_PER_SESSION"
        public static let authenticationFailed = "PERMISSION_DENIED.AUTHENTICATION"
        public static let impersonationDenied = "PERMISSION_DENIED.IMPERSONATION"
        public static let schemaTooNew = "SCHEMA.TOO_NEW"
        public static let schemaChecksumMismatch = "SCHEMA.CHECKSUM_MISMATCH"
        public static let storageClosed = "STORAGE.CLOSED"
    }

    static func invalidArgument(_ field: String, _ message: String) -> SessionStoreError {
        SessionStoreError(code: "\(Code.invalidArgument).\(field)", message: message)
    }

    static func sessionNotFound(_ key: String) -> SessionStoreError {
        SessionStoreError(code: Code.sessionNotFound, message: "no session with key \(key.debugDescriptionPrefix)")
    }

    /// Wraps any error met below the service layer into this type.
    static func wrap(_ error: any Error) -> SessionStoreError {
        switch error {
        case let error as SessionStoreError:
            return error
        case let error as SQLiteError:
            return SessionStoreError(
                code: "STORAGE.\(error.code.primary.description.replacingOccurrences(of: "SQLITE_", with: ""))",
                message: error.message, sqliteCode: error.code.rawValue, sql: error.sql)
        case is DatabaseClosedError:
            return SessionStoreError(code: Code.storageClosed, message: "the store is closed")
        case let error as MigrationError:
            return SessionStoreError(code: error.code, message: error.message)
        default:
            return SessionStoreError(code: "STORAGE.ERROR", message: "\(error)")
        }
    }
}

extension String {
    /// A quoted prefix safe to put in a message whatever the input held.
    var debugDescriptionPrefix: String {
        let prefix = self.count > 64 ? String(self.prefix(64)) + "…" : self
        return prefix.debugDescription
    }
}
