import SessionStoreCore
import Synchronization

/// Records refused calls in aggregate and refuses a peer that keeps failing.
///
/// A client sending wrong credentials as fast as it can must not turn each attempt into a
/// write. Per peer address and window (a minute), the first refusal is recorded at once as
/// a `call.refused` event; the rest of the window's refusals are counted and recorded as
/// one more event, with `count`, when the window closes (checked by ``flush(at:)``, which
/// the server runs every window and when it stops). Past ``blockAfter`` refusals in a
/// window, the peer's calls are refused without reading their credentials, with
/// `LIMIT_EXCEEDED.FAILED_AUTHENTICATIONS`, until the window ends; they are counted too.
/// At most ``maxPeers`` peers are tracked; beyond them refusals share one entry, which is
/// counted and recorded but never blocks: an attacker with many addresses must not lock
/// out every address the table has no room for.
final class RefusalLedger: Sendable {
    static let window: Duration = .seconds(60)
    static let blockAfter = 100
    static let maxPeers = 10_000
    private static let overflowPeer = "*"

    /// One aggregate `call.refused` event to write.
    struct Record: Sendable, Equatable {
        var method: String
        var clientAddress: String?
        var reason: String
        var count: Int
    }

    private struct Window {
        var start: ContinuousClock.Instant
        var address: String?
        /// Refusals after the first, which was recorded when the window opened.
        var unrecorded = 0
        var total = 1
        var method: String
        var reason: String
    }

    private let windows = Mutex<[String: Window]>([:])

    /// Whether calls from `address` are refused now without reading their credentials.
    func isBlocked(_ address: String?, at now: ContinuousClock.Instant = .now) -> Bool {
        windows.withLock { windows in
            let key = Self.key(address, in: windows)
            guard key != Self.overflowPeer, let window = windows[key] else { return false }
            return now - window.start < Self.window && window.total > Self.blockAfter
        }
    }

    /// Counts a refusal; returns what to record now: the first refusal of a new window,
    /// after the previous window's count when that window closed unrecorded.
    func refuse(method: String, address: String?, reason: String, at now: ContinuousClock.Instant = .now) -> [Record] {
        windows.withLock { windows in
            let key = Self.key(address, in: windows)
            var records: [Record] = []
            if var window = windows[key], now - window.start < Self.window {
                window.unrecorded += 1
                window.total += 1
                window.method = method
                window.reason = reason
                windows[key] = window
                return []
            } else if let closed = windows[key], closed.unrecorded > 0 {
                records.append(Self.record(of: closed))
            }
            windows[key] = Window(start: now, address: key == Self.overflowPeer ? nil : address, method: method, reason: reason)
            records.append(Record(method: method, clientAddress: address, reason: reason, count: 1))
            return records
        }
    }

    /// Ends the windows that have closed by `now` (every window when `now` is `nil`) and
    /// returns the counts they still owe the log.
    func flush(at now: ContinuousClock.Instant? = nil) -> [Record] {
        windows.withLock { windows in
            var records: [Record] = []
            for (key, window) in windows where now.map({ $0 - window.start >= Self.window }) ?? true {
                if window.unrecorded > 0 { records.append(Self.record(of: window)) }
                windows[key] = nil
            }
            return records
        }
    }

    private static func record(of window: Window) -> Record {
        Record(method: window.method, clientAddress: window.address, reason: window.reason, count: window.unrecorded)
    }

    /// The entry of `address`; a new address past ``maxPeers`` shares the overflow entry.
    private static func key(_ address: String?, in windows: [String: Window]) -> String {
        let key = address ?? "unknown"
        guard windows[key] == nil, windows.count >= maxPeers else { return key }
        return overflowPeer
    }
}

extension SessionStore {
    /// Writes `records` as `call.refused` events.
    func record(_ records: [RefusalLedger.Record]) async {
        for record in records {
            await recordRefusedCall(
                method: record.method, clientAddress: record.clientAddress, reason: record.reason, count: record.count)
        }
    }
}
