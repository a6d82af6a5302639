import Logging
import NIOCore
import NIOSSL
import Synchronization

/// Bounds what connections may hold of the server before they make a call: at most
/// `maximum` open at once (one past it is closed as it arrives, so file descriptors are
/// left for the store and for legitimate clients), and a connection that has not sent the
/// HTTP/2 preface and its whole first frame (its SETTINGS) within `handshakeTimeout` —
/// counted after TLS, so a TLS handshake alone does not count — is closed, so idle or
/// slowloris sockets cannot pile up. A connection that has made its handshake but holds
/// no call is closed by the transport after the idle timeout.
final class ConnectionLimiter: Sendable {
    let maximum: Int
    let handshakeTimeout: Duration
    private let logger: Logger
    private let open = Atomic<Int>(0)
    private let refused = Atomic<Int>(0)
    /// The connections accepted and not closed yet, for ``closeAll()``.
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

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
        let id = ObjectIdentifier(channel)
        channels.withLock { $0[id] = channel }
        channel.closeFuture.whenComplete { _ in
            self.open.wrappingSubtract(1, ordering: .relaxed)
            self.channels.withLock { _ = $0.removeValue(forKey: id) }
        }
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
            let pipeline = channel.pipeline.syncOperations
            let deadline = HandshakeDeadline(timeout: timeout)
            // Behind TLS when there is TLS: the bytes counted are HTTP/2's, not ciphertext.
            if let tls = try? pipeline.handler(type: NIOSSLServerHandler.self) {
                try pipeline.addHandler(deadline, position: .after(tls))
            } else {
                try pipeline.addHandler(deadline, position: .first)
            }
        }
    }

    /// Closes every open connection: what ends a drain past its deadline. A call still
    /// open then is cancelled, however its client reads — one that reads nothing (a zero
    /// flow-control window) would otherwise hold its stream, and the server, open.
    func closeAll() {
        for channel in channels.withLock({ Array($0.values) }) {
            channel.close(promise: nil)
        }
    }

    private struct ConnectionRefused: Error {}
}

/// Closes its connection unless the client's HTTP/2 handshake — the 24-byte preface and
/// the whole of its first frame — arrives in time; leaves the pipeline once it has.
private final class HandshakeDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// The client preface and a frame header, which holds the frame's length.
    private static let headerEnd = 24 + 9
    private let timeout: Duration
    /// The first `headerEnd` bytes, kept to read the first frame's length.
    private var head: [UInt8] = []
    private var received = 0
    /// Bytes the handshake takes, once the first frame's header has arrived.
    private var needed: Int?
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
        let buffer = unwrapInboundIn(data)
        received += buffer.readableBytes
        if head.count < Self.headerEnd {
            head += buffer.readableBytesView.prefix(Self.headerEnd - head.count)
            if head.count == Self.headerEnd {
                // A frame header begins with the 24-bit length of its payload.
                let length = Int(head[24]) << 16 | Int(head[25]) << 8 | Int(head[26])
                needed = Self.headerEnd + length
            }
        }
        context.fireChannelRead(data)
        if let needed, received >= needed {
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
