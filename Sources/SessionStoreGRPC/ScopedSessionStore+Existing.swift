import SessionStoreCore

extension ScopedSessionStore {
    /// The session with `key`, or the store's not-found error for it: the same answer
    /// whether there is no such session or it is another principal's.
    func existingSession(key: String) async throws -> Session {
        guard let session = try await session(key: key) else { throw SessionStoreError.sessionNotFound(key) }
        return session
    }

    /// The execution, or `INVALID_HANDLE.OPERATION_NOT_FOUND` worded as the store words it.
    func existingExecution(key: String, operationId: String) async throws -> Execution {
        guard let execution = try await execution(key: key, operationId: operationId) else {
            throw SessionStoreError(code: .operationNotFound, message: "no operation \(operationId) in session \(key)")
        }
        return execution
    }
}
