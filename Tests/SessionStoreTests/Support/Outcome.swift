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
