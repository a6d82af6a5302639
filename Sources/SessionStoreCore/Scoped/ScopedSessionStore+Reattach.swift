// MARK: Reattach: attach, follow, detach

extension ScopedSessionStore {
    /// Spark Connect's reattach as one call: attaches a client to the execution, hands
    /// `deliver` the execution as attached, then again after each change of its status or
    /// attachment, until it is no longer running or no longer attached.
    ///
    /// The client is attached while this call runs: however it ends before the execution
    /// does — `deliver` throws, the calling task is cancelled, the store closes — the
    /// execution is detached, and may be reattached later (a reattachable one, within
    /// the detached timeout). Changes are read from the event log from a position taken
    /// before the attach, so none made between the attach and the first read is missed.
    ///
    /// ```swift
    /// try await view.followExecution(key: key, operationId: "op-1") { execution in
    ///     try await stream.send(execution)
    /// }
    /// ```
    ///
    /// - Throws: what ``attachExecution(key:operationId:)`` throws, and what `deliver`
    ///   throws.
    public func followExecution(
        key: String, operationId: String, _ deliver: (Execution) async throws -> Void
    ) async throws {
        guard let session = try await session(key: key) else { throw SessionStoreError.sessionNotFound(key) }
        let owner = session.userId
        let seen = try await latestEventSeq(user: owner)
        var execution = try await attachExecution(key: key, operationId: operationId)
        var followedToTheEnd = !execution.status.isRunning
        do {
            try await deliver(execution)
            if !followedToTheEnd {
                let changes = try events(from: seen, kinds: [EventKind.executionStatus, EventKind.executionDetached], user: owner)
                for try await event in changes
                where event.sessionKey == execution.sessionKey && event.operationId == execution.operationId {
                    guard let current = try await self.execution(key: key, operationId: operationId) else {
                        throw SessionStoreError(code: .operationNotFound, message: "no operation \(operationId) in session \(key)")
                    }
                    execution = current
                    try await deliver(execution)
                    if !execution.status.isRunning || !execution.attached {
                        followedToTheEnd = true
                        break
                    }
                }
            }
        } catch {
            await detachAfterFollowing(key: key, operationId: operationId)
            throw error
        }
        if !followedToTheEnd { await detachAfterFollowing(key: key, operationId: operationId) }
    }

    /// Detaches after a follow that ended early. A write once submitted is not withdrawn
    /// when the calling task is cancelled (the contract of ``StorageBackend``), so this
    /// completes in a cancelled task too; a failure (the store closed, the execution
    /// ended meanwhile) leaves what the store has.
    private func detachAfterFollowing(key: String, operationId: String) async {
        _ = try? await detachExecution(key: key, operationId: operationId)
    }
}

extension SessionStore {
    /// ``ScopedSessionStore/followExecution(key:operationId:_:)`` on any session: attaches
    /// to the execution, hands `deliver` each state until it stops running or is
    /// detached, and detaches when the call ends first.
    public func followExecution(
        key: String, operationId: String, _ deliver: (Execution) async throws -> Void
    ) async throws {
        try await trustedView().followExecution(key: key, operationId: operationId, deliver)
    }
}
