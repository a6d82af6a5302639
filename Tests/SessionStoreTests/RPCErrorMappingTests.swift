import GRPCCore
import SessionStore
import SessionStoreGRPC
import Testing

/// Every store code becomes the gRPC status docs/grpc.md's table gives, with the stable code in
/// the `sessionstore-error-code` trailer and the message as the status message.
@Suite struct RPCErrorMappingTests {
    @Test(arguments: SessionStoreError.Code.allCases)
    func everyCodeMapsToItsCategorysStatus(_ code: SessionStoreError.Code) {
        let error = RPCError(SessionStoreError(code: code, message: "what happened"))
        let expected: RPCError.Code =
            switch code {
            case .authenticationFailed: .unauthenticated
            case .storageCorrupt: .dataLoss
            default:
                switch code.category {
                case .invalidArgument: .invalidArgument
                case .notFound: .notFound
                case .alreadyExists: .alreadyExists
                case .failedPrecondition, .schemaMismatch: .failedPrecondition
                case .capacityExceeded, .sizeExceeded: .resourceExhausted
                case .permissionDenied: .permissionDenied
                case .unavailable: .unavailable
                case .storageFailure: .internalError
                }
            }
        #expect(error.code == expected)
        #expect(error.message == "what happened")
        #expect(Array(error.metadata[stringValues: RPCError.sessionStoreCodeKey]) == [code.rawValue])
    }

    @Test func theStatusesOfTheCodesClientsMeetMost() {
        #expect(RPCError.statusCode(for: .sessionNotFound) == .notFound)
        #expect(RPCError.statusCode(for: .sessionExpired) == .failedPrecondition)
        #expect(RPCError.statusCode(for: .sessionsPerUser) == .resourceExhausted)
        #expect(RPCError.statusCode(for: .storageBusy) == .unavailable)
        #expect(RPCError.statusCode(for: .impersonationDenied) == .permissionDenied)
        #expect(RPCError.statusCode(for: .handleFormat) == .invalidArgument)
    }
}
