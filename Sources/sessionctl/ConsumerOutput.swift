/// What `subscribe` and `releases` share: print a durable consumer's pending items and
/// stop, or follow it until interrupted; with `ack`, acknowledge each item once printed.
///
/// With `--json` the pending items are one JSON array, and a follow prints one JSON object
/// a line (JSON Lines), each as it arrives.
struct ConsumerOutput<Stream: AsyncSequence> where Stream.Element: Sendable {
    let follow: Bool
    let ack: Bool
    /// The item's sequence number, the position an acknowledgement moves to.
    let seq: (Stream.Element) -> Int64
    let acknowledge: (Int64) async throws -> Void
    /// One item as a follow prints it: a text line, or a JSON line.
    let print: (Stream.Element) throws -> Void
    /// The pending items at once: text lines, or one JSON array.
    let printPending: ([Stream.Element]) throws -> Void

    func run(pending: () async throws -> [Stream.Element], stream: () async throws -> Stream) async throws {
        if follow {
            for try await item in try await stream() {
                try print(item)
                if ack { try await acknowledge(seq(item)) }
            }
            return
        }
        let items = try await pending()
        try printPending(items)
        if ack, let last = items.last {
            try await acknowledge(seq(last))
        }
    }
}
