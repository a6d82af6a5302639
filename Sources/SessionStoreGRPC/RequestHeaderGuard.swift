import GRPCCore
import NIOCore
import NIOHPACK
import NIOHTTP2
import SessionStoreCore

/// Reads a call's request headers before grpc-swift does, on every accepted HTTP/2 stream,
/// and answers the requests grpc-swift would crash on or run past their deadline.
///
/// grpc-swift 2 parses `grpc-timeout` with `Int64(_:)`, which takes a sign, and traps on a
/// `precondition` when the amount is negative: one unauthenticated request with
/// `grpc-timeout: -1S` would end the server. The gRPC spec allows one to eight ASCII digits
/// and a unit (`H M S m u n`); anything else is refused here with `INVALID_ARGUMENT` and
/// `INVALID_ARGUMENT.GRPC_TIMEOUT`, before any handler, interceptor or storage work.
///
/// A deadline under ``minimumTimeout`` has passed by the time a call could do anything, so
/// such a call is answered `DEADLINE_EXCEEDED` at once without running it (grpc-swift would
/// start the handler and cancel it a moment later, after it may have written).
///
/// The guard steps out of the pipeline after the first `HEADERS` frame: a call's other
/// frames pass grpc-swift's handler alone.
final class RequestHeaderGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    /// The store code sent with a refused `grpc-timeout`.
    static let malformedTimeoutCode = SessionStoreError.Code.invalidGRPCTimeout.rawValue
    /// The shortest deadline a call is run with.
    static let minimumTimeout = Duration.milliseconds(1)

    /// Adds a guard in front of grpc-swift's handler of a newly accepted stream: the
    /// transport's `onAcceptHTTP2Stream` callback.
    static func install(on channel: any Channel) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(RequestHeaderGuard(), position: .first)
        }
    }

    private var answered = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // A refused call's later frames (its message, its end) go nowhere.
        guard !answered else { return }
        guard case .headers(let frame) = unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        switch Self.verdict(frame.headers) {
        case .run:
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        case .answer(let status, let message, let code):
            answered = true
            var trailers: HPACKHeaders = [
                ":status": "200", "content-type": "application/grpc", "grpc-status": String(status),
                "grpc-message": message,
            ]
            if let code { trailers.add(name: RPCError.sessionStoreCodeKey, value: code) }
            let payload = HTTP2Frame.FramePayload.headers(.init(headers: trailers, endStream: true))
            context.writeAndFlush(wrapOutboundOut(payload), promise: nil)
            // Ends the client's half too (after the answer, which is already on its way):
            // it has nothing left to send that anyone reads.
            context.close(promise: nil)
        }
    }

    /// What to do with a call whose request headers are `headers`.
    enum Verdict: Equatable {
        /// Hand the call to grpc-swift.
        case run
        /// Answer with a trailers-only response: the gRPC status number, a message of
        /// ASCII letters and spaces (no percent-encoding needed), and a store code.
        case answer(status: Int, message: String, code: String?)
    }

    static func verdict(_ headers: HPACKHeaders) -> Verdict {
        let timeouts = headers["grpc-timeout"]
        guard !timeouts.isEmpty else { return .run }
        guard timeouts.count == 1, let timeout = parseTimeout(timeouts[0]) else {
            return .answer(
                status: 3, message: "grpc-timeout must be one to eight digits and a unit (H M S m u n)",
                code: malformedTimeoutCode)
        }
        guard timeout >= minimumTimeout else {
            return .answer(status: 4, message: "the deadline passed before the call could run", code: nil)
        }
        return .run
    }

    /// A `grpc-timeout` value as the gRPC spec defines it (`TimeoutValue TimeoutUnit`, the
    /// value one to eight ASCII digits); `nil` for anything else.
    static func parseTimeout(_ value: String) -> Duration? {
        let bytes = Array(value.utf8)
        guard (2...9).contains(bytes.count), let unit = bytes.last else { return nil }
        var amount: Int64 = 0
        for byte in bytes.dropLast() {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            amount = amount * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        switch unit {
        case UInt8(ascii: "H"): return .seconds(amount * 3600)
        case UInt8(ascii: "M"): return .seconds(amount * 60)
        case UInt8(ascii: "S"): return .seconds(amount)
        case UInt8(ascii: "m"): return .milliseconds(amount)
        case UInt8(ascii: "u"): return .microseconds(amount)
        case UInt8(ascii: "n"): return .nanoseconds(amount)
        default: return nil
        }
    }
}
