
extension SessionStoreError {
    /// A stable error code such as `INVALID_HANDLE.SESSION_CLOSED`, with its ``Category``.
    ///
    /// The string codes never change meaning once shipped and are printed as they are by
    /// `sessionctl` and in events. Every code the library throws is a static member here
    /// and is listed in ``allCases``; README's "Error codes" section says when each happens
    /// and what to do. A front end maps ``category`` to its statuses.
    ///
    /// A code decoded from elsewhere (`Code(rawValue:)`, or a string literal in a test)
    /// equals the member with the same string.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
        /// The stable string, e.g. `LIMIT_EXCEEDED.SESSIONS_PER_USER`.
        public let rawValue: String
        /// What kind of failure this code is.
        public let category: Category

        private init(_ rawValue: String, _ category: Category) {
            self.rawValue = rawValue
            self.category = category
        }

        /// The code spelled `rawValue`: one of the members when it is theirs; otherwise a
        /// code of a later build, categorised by its group (`INVALID_ARGUMENT`,
        /// `LIMIT_EXCEEDED`, …).
        public init(rawValue: String) {
            self = Self.byRawValue[rawValue] ?? Code(rawValue, Self.category(ofUnknown: rawValue))
        }

        /// The code spelled by the literal; see ``init(rawValue:)``.
        public init(stringLiteral value: String) {
            self.init(rawValue: value)
        }

        /// The string code.
        public var description: String { rawValue }

        /// Codes are equal when their strings are.
        public static func == (lhs: Code, rhs: Code) -> Bool { lhs.rawValue == rhs.rawValue }

        /// Hashes the string code.
        public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }


        // MARK: Handles and states

        /// No session has that key (or its tombstone was pruned).
        public static let sessionNotFound = Code("INVALID_HANDLE.SESSION_NOT_FOUND", .notFound)
        /// The session is closing or ended; or that (user, session id) was closed.
        public static let sessionClosed = Code("INVALID_HANDLE.SESSION_CLOSED", .failedPrecondition)
        /// The session expired: its expiry passed, whether or not a sweeper has ended it yet
        /// (ZooKeeper's `SESSION_EXPIRED`). The client must open a new session.
        public static let sessionExpired = Code("INVALID_HANDLE.SESSION_EXPIRED", .failedPrecondition)
        /// The user has a live session with that session id.
        public static let sessionAlreadyExists = Code("INVALID_HANDLE.SESSION_ALREADY_EXISTS", .alreadyExists)
        /// A session key or operation id is not a UUID.
        public static let handleFormat = Code("INVALID_HANDLE.FORMAT", .invalidArgument)
        /// No execution with that id in the session.
        public static let operationNotFound = Code("INVALID_HANDLE.OPERATION_NOT_FOUND", .notFound)
        /// The operation id is used in the session.
        public static let operationAlreadyExists = Code("INVALID_HANDLE.OPERATION_ALREADY_EXISTS", .alreadyExists)
        /// The execution was abandoned (detached past the detached timeout).
        public static let operationAbandoned = Code("INVALID_HANDLE.OPERATION_ABANDONED", .failedPrecondition)
        /// Reattach to a detached execution created without `reattachable`.
        public static let operationNotReattachable = Code("INVALID_HANDLE.OPERATION_NOT_REATTACHABLE", .failedPrecondition)
        /// Unknown streaming query id in the session.
        public static let queryNotFound = Code("INVALID_HANDLE.STREAMING_QUERY_NOT_FOUND", .notFound)
        /// Duplicate streaming query id in the session.
        public static let queryAlreadyExists = Code("INVALID_HANDLE.STREAMING_QUERY_ALREADY_EXISTS", .alreadyExists)
        /// Unknown resource (kind, name) in the session.
        public static let resourceNotFound = Code("INVALID_HANDLE.RESOURCE_NOT_FOUND", .notFound)
        /// Duplicate resource (kind, name) in the session.
        public static let resourceAlreadyExists = Code("INVALID_HANDLE.RESOURCE_ALREADY_EXISTS", .alreadyExists)
        /// An execution status change the status machine does not allow (the message names from and to).
        public static let invalidTransition = Code("INVALID_TRANSITION", .failedPrecondition)
        /// A link would make a session its own ancestor.
        public static let linkCycle = Code("INVALID_ARGUMENT.LINK_CYCLE", .invalidArgument)

        // MARK: Limits

        /// Opening would exceed the limit of live sessions in the store; recorded as a `session.refused` event.
        public static let sessionsTotal = Code("LIMIT_EXCEEDED.SESSIONS_TOTAL", .capacityExceeded)
        /// Opening would exceed the limit of live sessions of one user; recorded as a `session.refused` event.
        public static let sessionsPerUser = Code("LIMIT_EXCEEDED.SESSIONS_PER_USER", .capacityExceeded)
        /// Opening would exceed the limit of live sessions from one client address; recorded as a
        /// `session.refused` event.
        public static let sessionsPerAddress = Code("LIMIT_EXCEEDED.SESSIONS_PER_ADDRESS", .capacityExceeded)
        /// Opening would exceed the limit of live sessions of one user from one address; recorded as a
        /// `session.refused` event.
        public static let sessionsPerUserAddress = Code("LIMIT_EXCEEDED.SESSIONS_PER_USER_ADDRESS", .capacityExceeded)
        /// Opening would exceed the limit of live sessions of one data source; recorded as a `session.refused`
        /// event.
        public static let sessionsPerDataSource = Code("LIMIT_EXCEEDED.SESSIONS_PER_DATA_SOURCE", .capacityExceeded)
        /// Creating the execution would exceed the running executions allowed in one session.
        public static let executionsPerSession = Code("LIMIT_EXCEEDED.EXECUTIONS_PER_SESSION", .capacityExceeded)
        /// Registering the query would exceed the active streaming queries allowed in one session.
        public static let streamingQueriesPerSession = Code("LIMIT_EXCEEDED.STREAMING_QUERIES_PER_SESSION", .capacityExceeded)
        /// Adding the resource would exceed the total resource bytes one session may own; releasing others
        /// makes room.
        public static let resourceBytesPerSession = Code("LIMIT_EXCEEDED.RESOURCE_BYTES_PER_SESSION", .capacityExceeded)
        /// The session would hold more details than allowed.
        public static let detailsPerSession = Code("LIMIT_EXCEEDED.DETAILS_PER_SESSION", .sizeExceeded)
        /// A new link would exceed the links one session may take part in, as parent or as
        /// child (``SessionLimits/maxLinksPerSession``); nothing was written.
        public static let linksPerSession = Code("LIMIT_EXCEEDED.LINKS_PER_SESSION", .capacityExceeded)
        /// The session would hold more config entries than allowed (at open or on a change); nothing is
        /// written.
        public static let configPerSession = Code("LIMIT_EXCEEDED.CONFIG_PER_SESSION", .sizeExceeded)
        /// An execution or streaming query would carry more tags than allowed; nothing is written.
        public static let tagsPerExecution = Code("LIMIT_EXCEEDED.TAGS_PER_EXECUTION", .sizeExceeded)
        /// Adding the resource would exceed the resources one session may own at once, whatever their size;
        /// releasing others makes room.
        public static let resourcesPerSession = Code("LIMIT_EXCEEDED.RESOURCES_PER_SESSION", .capacityExceeded)
        /// Registering the query would exceed the streaming queries one session keeps, active or stopped;
        /// removing stopped ones (or their retention passing) makes room.
        public static let queriesPerSession = Code("LIMIT_EXCEEDED.QUERIES_PER_SESSION", .capacityExceeded)
        /// Creating the execution would exceed the executions one session keeps unclosed
        /// (``SessionLimits/maxUnclosedExecutionsPerSession``); closing one makes room.
        /// Nothing is written.
        public static let unclosedExecutionsPerSession = Code("LIMIT_EXCEEDED.UNCLOSED_EXECUTIONS_PER_SESSION", .capacityExceeded)
        /// A network front end holds as many streaming calls open for this principal (or,
        /// without authentication, this address) as it allows; one must end first.
        public static let streamsPerPrincipal = Code("LIMIT_EXCEEDED.STREAMS_PER_PRINCIPAL", .capacityExceeded)
        /// A network front end refuses calls from this address for a while: too many of its
        /// calls failed authentication.
        public static let failedAuthentications = Code("LIMIT_EXCEEDED.FAILED_AUTHENTICATIONS", .capacityExceeded)

        // MARK: Authentication

        /// The authenticator refused the credentials; recorded as an event.
        public static let authenticationFailed = Code("PERMISSION_DENIED.AUTHENTICATION", .permissionDenied)
        /// The policy does not let the user act as the impersonated user; recorded as an event.
        public static let impersonationDenied = Code("PERMISSION_DENIED.IMPERSONATION", .permissionDenied)

        // MARK: Invalid arguments

        /// `user id` is empty, too long, holds control characters or is out of range.
        public static let invalidUserId = Code("INVALID_ARGUMENT.USER_ID", .invalidArgument)
        /// `session id` is empty, too long, holds control characters or is out of range.
        public static let invalidSessionId = Code("INVALID_ARGUMENT.SESSION_ID", .invalidArgument)
        /// `data source` is empty, too long, holds control characters or is out of range.
        public static let invalidDataSource = Code("INVALID_ARGUMENT.DATA_SOURCE", .invalidArgument)
        /// `type` is empty, too long, holds control characters or is out of range.
        public static let invalidType = Code("INVALID_ARGUMENT.TYPE", .invalidArgument)
        /// `version` is empty, too long, holds control characters or is out of range.
        public static let invalidVersion = Code("INVALID_ARGUMENT.VERSION", .invalidArgument)
        /// `identifier` is empty, too long, holds control characters or is out of range.
        public static let invalidIdentifier = Code("INVALID_ARGUMENT.IDENTIFIER", .invalidArgument)
        /// `utc offset` is empty, too long, holds control characters or is out of range.
        public static let invalidUtcOffset = Code("INVALID_ARGUMENT.UTC_OFFSET", .invalidArgument)
        /// `client address` is empty, too long, holds control characters or is out of range.
        public static let invalidClientAddress = Code("INVALID_ARGUMENT.CLIENT_ADDRESS", .invalidArgument)
        /// `impersonated user` is empty, too long, holds control characters or is out of range.
        public static let invalidImpersonatedUser = Code("INVALID_ARGUMENT.IMPERSONATED_USER", .invalidArgument)
        /// `credentials` is empty, too long, holds control characters or is out of range.
        public static let invalidCredentials = Code("INVALID_ARGUMENT.CREDENTIALS", .invalidArgument)
        /// `timeout` is empty, too long, holds control characters or is out of range.
        public static let invalidTimeout = Code("INVALID_ARGUMENT.TIMEOUT", .invalidArgument)
        /// `detail name` is empty, too long, holds control characters or is out of range.
        public static let invalidDetailName = Code("INVALID_ARGUMENT.DETAIL_NAME", .invalidArgument)
        /// `detail value` is empty, too long, holds control characters or is out of range.
        public static let invalidDetailValue = Code("INVALID_ARGUMENT.DETAIL_VALUE", .invalidArgument)
        /// `config name` is empty, too long, holds control characters or is out of range.
        public static let invalidConfigName = Code("INVALID_ARGUMENT.CONFIG_NAME", .invalidArgument)
        /// `config value` is empty, too long, holds control characters or is out of range.
        public static let invalidConfigValue = Code("INVALID_ARGUMENT.CONFIG_VALUE", .invalidArgument)
        /// `config option` is empty, too long, holds control characters or is out of range.
        public static let invalidConfigOption = Code("INVALID_ARGUMENT.CONFIG_OPTION", .invalidArgument)
        /// `tag` is empty, too long, holds control characters or is out of range.
        public static let invalidTag = Code("INVALID_ARGUMENT.TAG", .invalidArgument)
        /// `statement` is empty, too long, holds control characters or is out of range.
        public static let invalidStatement = Code("INVALID_ARGUMENT.STATEMENT", .invalidArgument)
        /// `request` is empty, too long, holds control characters or is out of range.
        public static let invalidRequest = Code("INVALID_ARGUMENT.REQUEST", .invalidArgument)
        /// `error` is empty, too long, holds control characters or is out of range.
        public static let invalidError = Code("INVALID_ARGUMENT.ERROR", .invalidArgument)
        /// `reason` is empty, too long, holds control characters or is out of range.
        public static let invalidReason = Code("INVALID_ARGUMENT.REASON", .invalidArgument)
        /// `query id` is empty, too long, holds control characters or is out of range.
        public static let invalidQueryId = Code("INVALID_ARGUMENT.QUERY_ID", .invalidArgument)
        /// `query name` is empty, too long, holds control characters or is out of range.
        public static let invalidQueryName = Code("INVALID_ARGUMENT.QUERY_NAME", .invalidArgument)
        /// `run id` is empty, too long, holds control characters or is out of range.
        public static let invalidRunId = Code("INVALID_ARGUMENT.RUN_ID", .invalidArgument)
        /// `resource kind` is empty, too long, holds control characters or is out of range.
        public static let invalidResourceKind = Code("INVALID_ARGUMENT.RESOURCE_KIND", .invalidArgument)
        /// `resource name` is empty, too long, holds control characters or is out of range.
        public static let invalidResourceName = Code("INVALID_ARGUMENT.RESOURCE_NAME", .invalidArgument)
        /// `bytes` is empty, too long, holds control characters or is out of range.
        public static let invalidBytes = Code("INVALID_ARGUMENT.BYTES", .invalidArgument)
        /// `subscription` is empty, too long, holds control characters or is out of range.
        public static let invalidSubscription = Code("INVALID_ARGUMENT.SUBSCRIPTION", .invalidArgument)
        /// `limit` is empty, too long, holds control characters or is out of range.
        public static let invalidLimit = Code("INVALID_ARGUMENT.LIMIT", .invalidArgument)
        /// An event filter names a kind the store never writes (see ``EventKind/known``).
        public static let invalidEventKind = Code("INVALID_ARGUMENT.EVENT_KIND", .invalidArgument)
        /// A call's `grpc-timeout` header is not one to eight digits and a unit.
        public static let invalidGRPCTimeout = Code("INVALID_ARGUMENT.GRPC_TIMEOUT", .invalidArgument)

        // MARK: Storage

        /// Another connection held the database past the busy timeout; a retry may pass.
        public static let storageBusy = Code("STORAGE.BUSY", .unavailable)
        /// A conflicting use of the same connection; a retry may pass.
        public static let storageLocked = Code("STORAGE.LOCKED", .unavailable)
        /// A call after `close()`.
        public static let storageClosed = Code("STORAGE.CLOSED", .unavailable)
        /// `max-pending-writes` calls already wait for the writer, or `max-pending-reads` reads for a
        /// reader connection: the call was refused at once, nothing ran. A retry after a pause may pass.
        public static let storageOverloaded = Code("STORAGE.OVERLOADED", .unavailable)
        /// The database server cannot be reached, or the connection to it was lost while the
        /// call was in flight (PostgreSQL). The call may or may not have committed; the
        /// backend reconnects by itself, and a retry after a pause may pass.
        public static let storageUnavailable = Code("STORAGE.UNAVAILABLE", .unavailable)
        /// SQLite's generic error, PostgreSQL's error of an SQLSTATE without a code of its
        /// own (the SQLSTATE is in the error), or a failure below the service layer.
        public static let storageError = Code("STORAGE.ERROR", .storageFailure)
        /// A malfunction inside SQLite.
        public static let storageInternal = Code("STORAGE.INTERNAL", .storageFailure)
        /// The operating system denied access to the file.
        public static let storagePermission = Code("STORAGE.PERM", .storageFailure)
        /// SQLite aborted the operation.
        public static let storageAbort = Code("STORAGE.ABORT", .storageFailure)
        /// SQLite could not allocate memory.
        public static let storageNoMemory = Code("STORAGE.NOMEM", .storageFailure)
        /// A write to a read-only file or connection.
        public static let storageReadOnly = Code("STORAGE.READONLY", .storageFailure)
        /// The statement was interrupted.
        public static let storageInterrupted = Code("STORAGE.INTERRUPT", .storageFailure)
        /// The operating system reported an I/O error.
        public static let storageIOError = Code("STORAGE.IOERR", .storageFailure)
        /// The file holds what this build cannot read: SQLite found it malformed, or a row
        /// holds a state or status this build does not know (the message names the table,
        /// column and value).
        public static let storageCorrupt = Code("STORAGE.CORRUPT", .storageFailure)
        /// The disk is full.
        public static let storageFull = Code("STORAGE.FULL", .storageFailure)
        /// The file could not be opened or created.
        public static let storageCantOpen = Code("STORAGE.CANTOPEN", .storageFailure)
        /// SQLite's file locking protocol failed.
        public static let storageProtocol = Code("STORAGE.PROTOCOL", .storageFailure)
        /// The schema changed under a prepared statement.
        public static let storageSchemaChanged = Code("STORAGE.SCHEMA", .storageFailure)
        /// A string or blob exceeds SQLite's size limit.
        public static let storageTooBig = Code("STORAGE.TOOBIG", .storageFailure)
        /// A constraint of the schema failed.
        public static let storageConstraint = Code("STORAGE.CONSTRAINT", .storageFailure)
        /// A value of the wrong type.
        public static let storageMismatch = Code("STORAGE.MISMATCH", .storageFailure)
        /// The SQLite API was used incorrectly.
        public static let storageMisuse = Code("STORAGE.MISUSE", .storageFailure)
        /// The file is not an SQLite database; it is left untouched.
        public static let storageNotADatabase = Code("STORAGE.NOTADB", .storageFailure)

        // MARK: Schema

        /// The file was migrated by a newer build.
        public static let schemaTooNew = Code("SCHEMA.TOO_NEW", .schemaMismatch)
        /// The file records a migration numbered below this build's latest that this build does not have:
        /// another history of migrations wrote it.
        public static let schemaUnknownMigration = Code("SCHEMA.UNKNOWN_MIGRATION", .schemaMismatch)
        /// A migration recorded in the file differs from this build's file of the same number.
        public static let schemaChecksumMismatch = Code("SCHEMA.CHECKSUM_MISMATCH", .schemaMismatch)
        /// The migrations compiled into the build are not positive, unique and in order.
        public static let schemaInvalidMigrations = Code("SCHEMA.INVALID_MIGRATIONS", .schemaMismatch)

        /// Every code the library throws, in the order of README's table.
        public static let allCases: [Code] = [
            sessionNotFound,
            sessionClosed,
            sessionExpired,
            sessionAlreadyExists,
            handleFormat,
            operationNotFound,
            operationAlreadyExists,
            operationAbandoned,
            operationNotReattachable,
            queryNotFound,
            queryAlreadyExists,
            resourceNotFound,
            resourceAlreadyExists,
            invalidTransition,
            linkCycle,
            sessionsTotal,
            sessionsPerUser,
            sessionsPerAddress,
            sessionsPerUserAddress,
            sessionsPerDataSource,
            executionsPerSession,
            streamingQueriesPerSession,
            resourceBytesPerSession,
            detailsPerSession,
            linksPerSession,
            configPerSession,
            tagsPerExecution,
            resourcesPerSession,
            queriesPerSession,
            unclosedExecutionsPerSession,
            streamsPerPrincipal,
            failedAuthentications,
            authenticationFailed,
            impersonationDenied,
            invalidUserId,
            invalidSessionId,
            invalidDataSource,
            invalidType,
            invalidVersion,
            invalidIdentifier,
            invalidUtcOffset,
            invalidClientAddress,
            invalidImpersonatedUser,
            invalidCredentials,
            invalidTimeout,
            invalidDetailName,
            invalidDetailValue,
            invalidConfigName,
            invalidConfigValue,
            invalidConfigOption,
            invalidTag,
            invalidStatement,
            invalidRequest,
            invalidError,
            invalidReason,
            invalidQueryId,
            invalidQueryName,
            invalidRunId,
            invalidResourceKind,
            invalidResourceName,
            invalidBytes,
            invalidSubscription,
            invalidLimit,
            invalidEventKind,
            invalidGRPCTimeout,
            storageBusy,
            storageLocked,
            storageClosed,
            storageUnavailable,
            storageOverloaded,
            storageError,
            storageInternal,
            storagePermission,
            storageAbort,
            storageNoMemory,
            storageReadOnly,
            storageInterrupted,
            storageIOError,
            storageCorrupt,
            storageFull,
            storageCantOpen,
            storageProtocol,
            storageSchemaChanged,
            storageTooBig,
            storageConstraint,
            storageMismatch,
            storageMisuse,
            storageNotADatabase,
            schemaTooNew,
            schemaUnknownMigration,
            schemaChecksumMismatch,
            schemaInvalidMigrations,
        ]

        private static let byRawValue: [String: Code] = Dictionary(
            allCases.map { ($0.rawValue, $0) }, uniquingKeysWith: { first, _ in first })

        private static func category(ofUnknown rawValue: String) -> Category {
            let group = rawValue.prefix { $0 != "." }
            switch group {
            case "INVALID_ARGUMENT": return .invalidArgument
            case "INVALID_HANDLE": return rawValue.hasSuffix("_NOT_FOUND") ? .notFound : .failedPrecondition
            case "LIMIT_EXCEEDED": return .capacityExceeded
            case "PERMISSION_DENIED": return .permissionDenied
            case "SCHEMA": return .schemaMismatch
            default: return .storageFailure
            }
        }

        /// The `STORAGE.*` code named `STORAGE.<name>` (`BUSY`, `IOERR`, …), or
        /// `STORAGE.ERROR` when there is none: how a backend names the failure it met.
        package static func storage(named name: String) -> Code {
            byRawValue["STORAGE." + name] ?? storageError
        }

        /// For `INVALID_ARGUMENT.<FIELD>` codes: the field in words ("user id").
        var fieldLabel: String {
            let field = rawValue.split(separator: ".").last.map(String.init) ?? rawValue
            return field.lowercased().replacingOccurrences(of: "_", with: " ")
        }
    }
}
