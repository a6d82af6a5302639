import SessionStoreCore

/// A failure of PostgreSQL or of the connection to it.
package struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// The server's SQLSTATE, `nil` when the connection failed before the server answered.
    package let sqlState: String?
    package let message: String
    /// The statement that failed, when one did.
    package let sql: String?
    /// Whether the server could not be reached or the connection was lost.
    package let isConnectionFailure: Bool

    package init(sqlState: String, message: String, sql: String? = nil) {
        self.sqlState = sqlState
        self.message = message
        self.sql = sql
        // Class 08 (connection exception) and the server shutting down (57P01–57P03).
        isConnectionFailure = sqlState.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(sqlState)
    }

    package init(unavailable message: String, location: String, sql: String? = nil) {
        sqlState = nil
        self.message = message
        self.sql = sql
        isConnectionFailure = true
    }

    /// A serialization failure or a deadlock: the transaction may be run again.
    package var isRetryable: Bool { sqlState == "40001" || sqlState == "40P01" }

    package var description: String {
        sqlState.map { "\(message) (SQLSTATE \($0))" } ?? message
    }
}

extension PostgresError: StorageFailure {
    package var sessionStoreError: SessionStoreError {
        SessionStoreError(code: code, message: description, sqlState: sqlState, sql: sql)
    }

    private var code: SessionStoreError.Code {
        if isConnectionFailure { return .storageUnavailable }
        guard let sqlState else { return .storageError }
        switch sqlState {
        case _ where sqlState.hasPrefix("23"): return .storageConstraint
        case "53100": return .storageFull
        case "53200": return .storageNoMemory
        case "42501": return .storagePermission
        case "25006": return .storageReadOnly
        case "57014": return .storageInterrupted
        case "XX001", "XX002": return .storageCorrupt
        default: return .storageError
        }
    }

    package var isUniqueViolation: Bool { sqlState == "23505" }
}
