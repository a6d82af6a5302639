import SessionStore
import Testing

/// Runs `body`, expecting it to fail with a ``SessionStoreError`` whose code is one of
/// `codes`; returns that error.
@discardableResult
func expectError<R>(
    _ codes: SessionStoreError.Code..., sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> R
) async -> SessionStoreError? {
    let expected = codes.map(\.rawValue).joined(separator: " or ")
    do {
        let value = try await body()
        Issue.record("expected \(expected), but the call succeeded: \(value)", sourceLocation: sourceLocation)
        return nil
    } catch let error as SessionStoreError {
        #expect(codes.contains(error.code), "\(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected \(expected), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
