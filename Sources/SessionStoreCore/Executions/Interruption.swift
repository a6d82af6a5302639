/// What an interrupt did: the executions it canceled and the streaming queries it stopped
/// (Spark Connect's `InterruptResponse.interrupted_ids`, with the queries named beside them).
public struct Interruption: Sendable, Hashable, Codable {
    /// The operation ids of the running executions it canceled, oldest first.
    public var operationIds: [String]
    /// The ids of the active streaming queries it stopped, oldest first.
    public var queryIds: [String]

    /// An interruption that canceled `operationIds` and stopped `queryIds`.
    public init(operationIds: [String], queryIds: [String] = []) {
        self.operationIds = operationIds
        self.queryIds = queryIds
    }
}
