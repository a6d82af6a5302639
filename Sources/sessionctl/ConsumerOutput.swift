/// What `subscribe` and `releases` share: print a durable consumer's pending items and
/// stop, or follow it until interrupted; with `ack`, acknowledge each item once printed.
struct ConsumerOutput<Stream: AsyncSequence> where Stream.Element: Sendable {
    let follow: Bool
    let ack: Bool
    /// The item's sequence number, the position an acknowledgement moves to.
    let seq: (Stream.Element) -> Int64
    let acknowledge: (Int64) async throws -> Void
    let print: (Stream.Element) throws -> Void

    func run(pending: () async throws -> [Stream.Element], stream: () async throws -> Stream) async throws {
        if follow {
            for try await item in try await stream() {
                try print(item)
                if ack { try await acknowledge(seq(item)) }
            }
            return
        }
        let items = try await pending()
        try items.forEach(print)
        if ack, let last = items.last {
            try await acknowledge(seq(last))
        }
    }
}
