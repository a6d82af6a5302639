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

    /// An error with `code` and `message`; `sqliteCode` and `sql` only for `STORAGE.*`
    /// errors.
    public init(code: String, message: String, sqliteCode: Int32? = nil, sql: String? = nil) {
        self.code = code
        self.message = message
        self.sqliteCode = sqliteCode
        self.sql = sql
    }

    /// `CODE: message`.
    public var description: String { "\(code): \(message)" }

    /// The codes this library uses. README's "Error codes" section says when each
    /// happens and what to do.
    public enum Code {
        /// No session has that key (or its tombstone was pruned).
        public static let sessionNotFound = "INVALID_HANDLE.SESSION_NOT_FOUND"
        /// The session is closing or ended; or that (user, session id) was closed.
        public static let sessionClosed = "INVALID_HANDLE.SESSION_CLOSED"
        /// The user has a live session with that session id.
        public static let sessionAlreadyExists = "INVALID_HANDLE.SESSION_ALREADY_EXISTS"
        /// A session key or operation id is not a UUID.
        public static let handleFormat = "INVALID_HANDLE.FORMAT"
        /// No execution with that id in the session.
        public static let operationNotFound = "INVALID_HANDLE.OPERATION_NOT_FOUND"
        /// The operation id is used in the session.
        public static let operationAlreadyExists = "INVALID_HANDLE.OPERATION_ALREADY_EXISTS"
        /// The execution was abandoned (detached past the detached timeout).
        public static let operationAbandoned = "INVALID_HANDLE.OPERATION_ABANDONED"
        /// Reattach to a detached execution created without `reattachable`.
        public static let operationNotReattachable = "INVALID_HANDLE.OPERATION_NOT_REATTACHABLE"
        /// Unknown streaming query id in the session.
        public static let queryNotFound = "INVALID_HANDLE.STREAMING_QUERY_NOT_FOUND"
        /// Duplicate streaming query id in the session.
        public static let queryAlreadyExists = "INVALID_HANDLE.STREAMING_QUERY_ALREADY_EXISTS"
        /// Unknown resource (kind, name) in the session.
        public static let resourceNotFound = "INVALID_HANDLE.RESOURCE_NOT_FOUND"
        /// Duplicate resource (kind, name) in the session.
        public static let resourceAlreadyExists = "INVALID_HANDLE.RESOURCE_ALREADY_EXISTS"
        /// An execution status change the status machine does not allow (the message
        /// names from and to).
        public static let invalidTransition = "INVALID_TRANSITION"
        /// A per-session limit: creating the execution would exceed the running
        /// executions allowed in one session.
        public static let executionsPerSession = "LIMIT_EXCEEDED.EXECUTIONS_PER_SESSION"
        /// A per-session limit: registering the query would exceed the active streaming
        /// queries allowed in one session.
        public static let streamingQueriesPerSession = "LIMIT_EXCEEDED.STREAMING_QUERIES_PER_SESSION"
        /// A per-session limit: adding the resource would exceed the total resource bytes
        /// one session may own.
        public static let resourceBytesPerSession = "LIMIT_EXCEEDED.RESOURCE_BYTES_PER_SESSION"
        /// The prefix of `INVALID_ARGUMENT.<FIELD>`: an id is empty, too long or holds
        /// control characters; a value is too long; a number is out of range (negative
        /// timeout, version below 1, UTC offset beyond ±18 h). Nothing was written.
        public static let invalidArgument = "INVALID_ARGUMENT"
        /// A link would make a session its own ancestor.
        public static let linkCycle = "INVALID_ARGUMENT.LINK_CYCLE"
        /// Opening would exceed the limit of live sessions in the store; recorded as a
        /// `session.refused` event.
        public static let sessionsTotal = "LIMIT_EXCEEDED.SESSIONS_TOTAL"
        /// Opening would exceed the limit of live sessions of one user; recorded as a
        /// `session.refused` event.
        public static let sessionsPerUser = "LIMIT_EXCEEDED.SESSIONS_PER_USER"
        /// Opening would exceed the limit of live sessions from one client address;
        /// recorded as a `session.refused` event.
        public static let sessionsPerAddress = "LIMIT_EXCEEDED.SESSIONS_PER_ADDRESS"
        /// Opening would exceed the limit of live sessions of one user from one address;
        /// recorded as a `session.refused` event.
        public static let sessionsPerUserAddress = "LIMIT_EXCEEDED.SESSIONS_PER_USER_ADDRESS"
        /// Opening would exceed the limit of live sessions of one data source; recorded
        /// as a `session.refused` event.
        public static let sessionsPerDataSource = "LIMIT_EXCEEDED.SESSIONS_PER_DATA_SOURCE"
        /// A per-session limit: the session would hold more details than allowed.
        public static let detailsPerSession = "LIMIT_EXCEEDED.DETAILS_PER_SESSION"
        /// The authenticator refused the credentials; recorded as an event.
        public static let authenticationFailed = "PERMISSION_DENIED.AUTHENTICATION"
        /// The policy does not let the user act as the impersonated user; recorded as an
        /// event.
        public static let impersonationDenied = "PERMISSION_DENIED.IMPERSONATION"
        /// The file was migrated by a newer build.
        public static let schemaTooNew = "SCHEMA.TOO_NEW"
        /// The file records a migration numbered below this build's latest that this
        /// build does not have: another history of migrations wrote it.
        public static let schemaUnknownMigration = "SCHEMA.UNKNOWN_MIGRATION"
        /// A migration recorded in the file differs from this build's file of the same
        /// number.
        public static let schemaChecksumMismatch = "SCHEMA.CHECKSUM_MISMATCH"
        /// A call after `close()`.
        public static let storageClosed = "STORAGE.CLOSED"
        /// The file holds what this build cannot read: SQLite found it malformed, or a row
        /// holds a state or status this build does not know (the message names the table,
        /// column and value).
        public static let storageCorrupt = "STORAGE.CORRUPT"
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
