import SessionStoreCore
import Synchronization

/// Counts the streaming calls each principal holds open and refuses one past the limit:
/// a stream a client stopped reading keeps its buffers (about 200 KiB) until it ends, so
/// one careless or hostile principal must not be able to hold an unbounded number.
/// Without authentication the caller's address stands for the principal.
public final class StreamLimiter: Sendable {
    /// The most streams one principal may hold open at once.
    public let maximum: Int
    private let open = Mutex<[String: Int]>([:])

    /// A limiter of `maximum` streams a principal.
    public init(maximum: Int = 1000) {
        self.maximum = maximum
    }

    /// Runs `body` as one of `caller`'s open streams, or throws
    /// `LIMIT_EXCEEDED.STREAMS_PER_PRINCIPAL` when `caller` already holds `maximum`.
    func withStream<T>(of caller: Caller, _ body: () async throws -> T) async throws -> T {
        let key = Self.key(of: caller)
        let admitted = open.withLock { open in
            let count = open[key, default: 0]
            guard count < maximum else { return false }
            open[key] = count + 1
            return true
        }
        guard admitted else {
            throw SessionStoreError(
                code: .streamsPerPrincipal,
                message: "this caller already holds \(maximum) streams open; end one first")
        }
        defer {
            open.withLock { open in
                let count = open[key, default: 1] - 1
                open[key] = count > 0 ? count : nil
            }
        }
        return try await body()
    }

    private static func key(of caller: Caller) -> String {
        switch caller.identity {
        case .principal(let name): "principal:" + name
        case .trusted: "address:" + (caller.peerAddress ?? "")
        }
    }
}
