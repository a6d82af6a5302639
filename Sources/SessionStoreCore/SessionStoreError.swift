
/// The one error type of the library: a stable code and a message for people.
///
/// Every public call of ``SessionStore`` is declared `throws` and throws only this type.
/// Catch one code by pattern and let the rest propagate, or branch on the code's
/// ``Category`` to map errors onto a protocol's statuses:
///
/// ```swift
/// do {
///     _ = try await store.openSession(userId: "ada", sessionId: "s1")
/// } catch SessionStoreError.Code.sessionClosed {
///     // ask the client to reconnect
/// } catch let error as SessionStoreError where error.category == .capacityExceeded {
///     // 429: a retry later may pass
/// }
/// ```
///
/// The public API uses untyped `throws` on purpose: on Swift 6.3 a consumer that catches
/// one code of a `throws(SessionStoreError)` call with a `where` clause or a pattern and
/// lets the rest propagate crashes the compiler. The idioms above compile.
///
/// `STORAGE.*` errors carry the SQL that failed and the backend's own code: SQLite's
/// extended result code, or PostgreSQL's SQLSTATE.
public struct SessionStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable code such as `INVALID_HANDLE.SESSION_CLOSED`.
    public let code: Code
    /// What happened, for a person.
    public let message: String
    /// For `STORAGE.*` errors: SQLite's extended result code.
    public let sqliteCode: Int32?
    /// For `STORAGE.*` errors: the SQL that failed.
    public let sql: String?
    /// For `STORAGE.*` errors of PostgreSQL: the server's SQLSTATE (`40001`, `23505`, …).
    public let sqlState: String?

    /// An error with `code` and `message`; `sqliteCode`, `sqlState` and `sql` only for
    /// `STORAGE.*` errors.
    public init(code: Code, message: String, sqliteCode: Int32? = nil, sqlState: String? = nil, sql: String? = nil) {
        self.code = code
        self.message = message
        self.sqliteCode = sqliteCode
        self.sqlState = sqlState
        self.sql = sql
    }

    /// What kind of failure the code is; see ``Category``.
    public var category: Category { code.category }

    /// `CODE: message`.
    public var description: String { "\(code): \(message)" }

    static func invalidArgument(_ code: Code, _ message: String) -> SessionStoreError {
        SessionStoreError(code: code, message: message)
    }

    /// `INVALID_HANDLE.SESSION_NOT_FOUND` for `key`, worded as every call of the store words
    /// it: for a front end that answers for a key itself, so that its answer cannot be told
    /// apart from the store's.
    public static func sessionNotFound(_ key: String) -> SessionStoreError {
        SessionStoreError(code: .sessionNotFound, message: "no session with key \(key.debugDescriptionPrefix)")
    }

    /// Wraps any error met below the service layer into this type.
    package static func wrap(_ error: any Error) -> SessionStoreError {
        switch error {
        case let error as SessionStoreError:
            return error
        case let error as any StorageFailure:
            return error.sessionStoreError
        default:
            return SessionStoreError(code: .storageError, message: "\(error)")
        }
    }
}

extension SessionStoreError {
    /// What kind of failure an error is: the part of its code a front end maps onto its
    /// own statuses (an HTTP status, a gRPC status) without parsing strings.
    public enum Category: String, Sendable, Hashable, CaseIterable, Codable {
        /// The request is malformed: an id, value or number out of bounds, a key that is
        /// not a UUID, a link that would close a cycle. Retrying the same request fails
        /// the same way.
        case invalidArgument
        /// No session, execution, streaming query or resource has that handle.
        case notFound
        /// A session, execution, streaming query or resource with that id exists.
        case alreadyExists
        /// The target's state forbids the call: the session is closed, the execution was
        /// abandoned or may not move to that status.
        case failedPrecondition
        /// A limit on what is live now: a retry may pass once sessions end, executions
        /// finish or resources are released.
        case capacityExceeded
        /// A limit on the size of one session's data that this request never passes.
        case sizeExceeded
        /// The authenticator or the impersonation policy refused.
        case permissionDenied
        /// The database is busy, the store is closed, or too many calls already wait for
        /// it; a retry may pass.
        case unavailable
        /// The database failed: I/O, corruption, a full disk, a file that is not a
        /// database.
        case storageFailure
        /// The file's schema does not match this build.
        case schemaMismatch
    }
}

extension SessionStoreError.Code {
    /// `pattern` matches an error that is a ``SessionStoreError`` with this code, so a
    /// `catch` clause can name one code:
    ///
    /// ```swift
    /// do { try await store.touch(key: key) } catch SessionStoreError.Code.sessionNotFound { ... }
    /// ```
    public static func ~= (pattern: SessionStoreError.Code, value: any Error) -> Bool {
        (value as? SessionStoreError)?.code == pattern
    }
}

extension String {
    /// A quoted prefix safe to put in a message whatever the input held.
    package var debugDescriptionPrefix: String {
        let prefix = self.count > 64 ? String(self.prefix(64)) + "…" : self
        return prefix.debugDescription
    }
}
