import Logging

extension SessionStore {
    /// The metadata of the enclosing ``withLogMetadata(_:isolation:operation:)`` scopes.
    @TaskLocal static var callLogMetadata: Logger.Metadata = [:]

    /// Runs `operation` with `metadata` added to every line the store logs for the calls
    /// made inside it, so a service can find the store's lines of one request by its id:
    ///
    /// ```swift
    /// try await SessionStore.withLogMetadata(["request.id": "\(request.id)"]) {
    ///     let session = try await store.openSession(userId: user, sessionId: notebook)
    ///     _ = try await store.touch(key: session.key)
    /// }
    /// ```
    ///
    /// The metadata is a task-local value: it reaches calls made by `operation` and by
    /// the child tasks it creates, not calls made from elsewhere, such as the sweeper's.
    /// Scopes nest; an inner scope's value wins for a key both set, and a line's own
    /// metadata wins over both. The store logs on the calling task, so a `Logger` whose
    /// handler has a metadata provider (swift-distributed-tracing's, for one) adds its
    /// metadata to the store's lines as well.
    public static func withLogMetadata<Result>(
        _ metadata: Logger.Metadata,
        isolation: isolated (any Actor)? = #isolation,
        operation: () async throws -> Result
    ) async rethrows -> Result {
        let merged = callLogMetadata.merging(metadata) { _, inner in inner }
        return try await $callLogMetadata.withValue(merged, operation: operation, isolation: isolation)
    }
}

extension Logger {
    /// This logger with the metadata of the calling task's
    /// ``SessionStore/withLogMetadata(_:isolation:operation:)`` scopes. Read it on the
    /// caller's task: a closure run on the writer or a reader thread sees no scope.
    package func withCallMetadata() -> Logger {
        let metadata = SessionStore.callLogMetadata
        guard !metadata.isEmpty else { return self }
        var logger = self
        for (key, value) in metadata {
            logger[metadataKey: key] = value
        }
        return logger
    }
}
