import GRPCCore
import SessionStoreCore

extension RPCError {
    /// The trailing-metadata key that carries a failed call's stable store code, e.g.
    /// `INVALID_HANDLE.SESSION_EXPIRED`.
    public static let sessionStoreCodeKey = "sessionstore-error-code"

    /// The gRPC status for a store error: its category picks the status code, the store's
    /// stable code goes into the trailing metadata as ``sessionStoreCodeKey`` and the
    /// error's message becomes the status message. SQLite's code and SQL stay on the
    /// server (they go to its log).
    ///
    /// | Category | Status |
    /// |---|---|
    /// | invalidArgument | `INVALID_ARGUMENT` |
    /// | notFound | `NOT_FOUND` |
    /// | alreadyExists | `ALREADY_EXISTS` |
    /// | failedPrecondition, schemaMismatch | `FAILED_PRECONDITION` |
    /// | capacityExceeded, sizeExceeded | `RESOURCE_EXHAUSTED` |
    /// | permissionDenied | `PERMISSION_DENIED` (`UNAUTHENTICATED` for `PERMISSION_DENIED.AUTHENTICATION`) |
    /// | unavailable | `UNAVAILABLE` |
    /// | storageFailure | `INTERNAL` (`DATA_LOSS` for `STORAGE.CORRUPT`) |
    public init(_ error: SessionStoreError) {
        var metadata = Metadata()
        metadata.addString(error.code.rawValue, forKey: Self.sessionStoreCodeKey)
        self.init(code: Self.statusCode(for: error.code), message: error.message, metadata: metadata)
    }

    /// The status code for a store code; see ``init(_:)-(SessionStoreError)``.
    public static func statusCode(for code: SessionStoreError.Code) -> RPCError.Code {
        switch code {
        case .authenticationFailed: return .unauthenticated
        case .storageCorrupt: return .dataLoss
        default: break
        }
        switch code.category {
        case .invalidArgument: return .invalidArgument
        case .notFound: return .notFound
        case .alreadyExists: return .alreadyExists
        case .failedPrecondition, .schemaMismatch: return .failedPrecondition
        case .capacityExceeded, .sizeExceeded: return .resourceExhausted
        case .permissionDenied: return .permissionDenied
        case .unavailable: return .unavailable
        case .storageFailure: return .internalError
        }
    }
}

/// Runs a call's body and turns what the store throws into the call's status.
///
/// `RPCError`s pass through; a `SessionStoreError` becomes ``RPCError/init(_:)``;
/// cancellation stays cancellation; anything else is an internal error whose text stays on
/// the server.
func storeCall<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
    do {
        return try await body()
    } catch let error as SessionStoreError {
        throw RPCError(error)
    } catch let error as RPCError {
        throw error
    } catch is CancellationError {
        throw RPCError(code: .cancelled, message: "the call was cancelled")
    } catch {
        throw RPCError(code: .internalError, message: "internal error")
    }
}
