import Foundation
import SessionStoreCore
import Synchronization

/// A connection that listens on the store's notification channel and counts what it
/// hears: the wake-up of ``ChangeSignal``s, never a payload.
///
/// The writer of this process counts its own commits directly, so a reader of this
/// process sees them at once; notifications bring the commits of other processes and
/// hosts (its own come back too, and are not counted twice). While the listener has no connection (the server restarted, the network is
/// down), every signal answers "changed", so a follower reads and loses nothing.
final class NotificationListener: Sendable {
    private let conninfo: String
    private let channel: String
    /// Commits heard of, local and notified.
    private let heard = Atomic<Int64>(0)
    private let connected = Atomic<Bool>(false)
    /// The server process of this store's writer connection, whose notifications are
    /// already counted; 0 while it has none.
    private let writerProcess = Atomic<Int32>(0)
    private let stopping = Atomic<Bool>(false)
    private let finished = ThreadEnd()

    init(conninfo: String, channel: String) {
        self.conninfo = conninfo
        self.channel = channel
    }

    func start() {
        let thread = Thread { [self] in
            listen()
            finished.finish()
        }
        thread.name = "SessionStore PostgreSQL listener"
        thread.start()
    }

    func stop() async {
        stopping.store(true, ordering: .releasing)
        await finished.wait()
    }

    /// Names the server process of this store's writer connection, before it commits.
    func noteWriter(process: Int32) {
        writerProcess.store(process, ordering: .releasing)
    }

    /// Counts a commit of this store's writer.
    func noteLocalCommit() {
        heard.add(1, ordering: .releasing)
    }

    func makeSignal() -> any ChangeSignal {
        ListenerSignal(listener: self)
    }

    /// What a signal compares: the count heard, or `nil` while not listening.
    var position: Int64? {
        connected.load(ordering: .acquiring) ? heard.load(ordering: .acquiring) : nil
    }

    private func listen() {
        while !stopping.load(ordering: .acquiring) {
            guard let connection = try? PGConnection(conninfo: conninfo),
                (try? connection.executeScript(sql: "LISTEN \(channel)")) != nil
            else {
                Thread.sleep(forTimeInterval: 0.2)
                continue
            }
            connected.store(true, ordering: .releasing)
            // Anything committed while not listening is covered: signals said "changed"
            // throughout, and this count moves once more.
            heard.add(1, ordering: .releasing)
            while !stopping.load(ordering: .acquiring) {
                var descriptor = pollfd(fd: connection.socket, events: Int16(POLLIN), revents: 0)
                let ready = poll(&descriptor, 1, 100)
                if ready < 0 && errno != EINTR { break }
                guard ready > 0 else { continue }
                guard let notified = try? connection.notifications() else { break }
                let writer = writerProcess.load(ordering: .acquiring)
                let others = notified.filter { $0.sender != writer }.count
                if others > 0 {
                    heard.add(Int64(others), ordering: .releasing)
                }
            }
            connected.store(false, ordering: .releasing)
        }
    }
}

/// The change signal of a ``NotificationListener``.
private final class ListenerSignal: ChangeSignal {
    let listener: NotificationListener
    /// The position of the previous answer; `nil` before the first.
    private let seen = Mutex<Int64?>(nil)

    init(listener: NotificationListener) {
        self.listener = listener
    }

    func hasChanged() -> Bool {
        guard let position = listener.position else { return true }
        return seen.withLock { seen in
            defer { seen = position }
            return seen != position
        }
    }
}
