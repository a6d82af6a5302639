import SessionStore
import Testing

/// The outcome of a store call: its value, or the ``SessionStoreError`` it threw. The
/// store throws nothing else; another error fails the test.
func outcome<T>(
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> T
) async -> Result<T, SessionStoreError> {
    do {
        return .success(try await body())
    } catch let error as SessionStoreError {
        return .failure(error)
    } catch {
        Issue.record("the store threw \(type(of: error)), not SessionStoreError: \(error)", sourceLocation: sourceLocation)
        return .failure(SessionStoreError(code: .storageError, message: "\(error)"))
    }
}

extension Sequence {
    /// The values of the successes and the errors of the failures, each in order.
    func partitioned<Value, Failure>() -> (values: [Value], errors: [Failure]) where Element == Result<Value, Failure> {
        var values: [Value] = []
        var errors: [Failure] = []
        for result in self {
            switch result {
            case .success(let value): values.append(value)
            case .failure(let error): errors.append(error)
            }
        }
        return (values, errors)
    }
}
