import Logging
import NIOCore
import Synchronization

/// Bounds what connections may hold of the server before they make a call: at most
/// `maximum` open at once (one past it is closed as it arrives, so file descriptors are
/// left for the store and for legitimate clients), and a connection that has not sent the
/// HTTP/2 preface and a first frame header (33 bytes) within `handshakeTimeout` is closed,
/// so idle or slowloris sockets cannot pile up. A connection that has made its handshake
/// but holds no call is closed by the transport after the idle timeout.
final class ConnectionLimiter: Sendable {
    let maximum: Int
    let handshakeTimeout: Duration
    private let logger: Logger
    private let open = Atomic<Int>(0)
    private let refused = Atomic<Int>(0)

    init(maximum: Int, handshakeTimeout: Duration, logger: Logger) {
        self.maximum = maximum
        self.handshakeTimeout = handshakeTimeout
        self.logger = logger
    }

    /// Connections open now.
    var openConnections: Int { open.load(ordering: .relaxed) }
    /// Connections closed on arrival because `maximum` were open.
    var refusedConnections: Int { refused.load(ordering: .relaxed) }

    /// The transport's `onAcceptTCPConnection` callback.
    func accept(_ channel: any Channel) -> EventLoopFuture<Void> {
        let count = open.wrappingAdd(1, ordering: .relaxed).newValue
        channel.closeFuture.whenComplete { _ in self.open.wrappingSubtract(1, ordering: .relaxed) }
        guard count <= maximum else {
            let total = refused.wrappingAdd(1, ordering: .relaxed).newValue
            // One line per hundred refusals: a flood must not become a flood of log lines.
            if total % 100 == 1 {
                logger.warning(
                    "connection refused: the server holds its maximum",
                    metadata: ["grpc.max_connections": "\(maximum)", "grpc.refused_connections": "\(total)"])
            }
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(ConnectionRefused())
        }
        let timeout = handshakeTimeout
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(HandshakeDeadline(timeout: timeout), position: .first)
        }
    }

    private struct ConnectionRefused: Error {}
}

/// Closes its connection unless the first bytes of the HTTP/2 handshake arrive in time;
/// leaves the pipeline once they have.
private final class HandshakeDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// The 24-byte client preface and one 9-byte frame header (its SETTINGS frame).
    private static let handshakeBytes = 33
    private let timeout: Duration
    private var received = 0
    private var deadline: Scheduled<Void>?

    init(timeout: Duration) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += unwrapInboundIn(data).readableBytes
        context.fireChannelRead(data)
        if received >= Self.handshakeBytes {
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    private func arm(_ context: ChannelHandlerContext) {
        guard deadline == nil else { return }
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            channel.close(promise: nil)
        }
    }
}
