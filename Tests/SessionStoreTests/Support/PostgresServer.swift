import Foundation
import SessionStorePostgres
import Synchronization
import Testing

/// A private PostgreSQL server for this test process: `initdb` and `pg_ctl` (Debian's
/// `postgresql` package) on a temporary directory and a free port on 127.0.0.1, run as the
/// `postgres` user when the tests run as root (the server refuses root).
///
/// It starts on first use and stops when the test process ends, however it ends: a
/// watcher started beside it stops the server and removes its directory once this
/// process is gone. A test that needs it fails, never skips, when it cannot start.
///
/// Every store gets a schema of its own on the one server (``makeSchema()``), so tests
/// run in parallel without seeing each other's rows.
final class PostgresServer: Sendable {
    /// The directory of the server's binaries.
    static let binaries = ProcessInfo.processInfo.environment["PG_BINARIES"] ?? "/usr/lib/postgresql/15/bin"

    /// The server of this process, started once.
    static func shared() async throws -> PostgresServer {
        try await starting.value
    }

    private static let starting = Task { try await PostgresServer.start() }

    /// A server of its own for a test that restarts it or reaches it from other network
    /// namespaces: listening on `addresses` beside 127.0.0.1, trusting clients of
    /// 127.0.0.0/8. It stops when the test process ends, like the shared one.
    static func dedicated(listeningAlsoOn addresses: [String] = []) async throws -> PostgresServer {
        try await start(listenAddresses: ["127.0.0.1"] + addresses)
    }

    /// `pg_ctl restart -m fast`: the server ends every connection, stops and starts again
    /// on the same port.
    func restart() async throws {
        let result = try await Self.run(
            Self.asServer + ["\(Self.binaries)/pg_ctl", "-D", "\(directory)/data", "-m", "fast", "-l", "\(directory)/log", "-w", "restart"])
        guard result.status == 0 else { throw ServerError(message: "pg_ctl restart failed (\(result.status)): \(result.stderr)") }
    }

    /// The settings every server of the tests starts with; a standby needs the same
    /// `max_connections` as its primary, or it refuses to replay its WAL.
    static let settings = ["-c max_connections=800", "-c shared_buffers=128MB", "-c fsync=off", "-c full_page_writes=off"]

    static var asServer: [String] { getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : [] }

    let directory: String
    let port: Int
    private let schemas = Atomic<Int>(0)

    init(directory: String, port: Int) {
        self.directory = directory
        self.port = port
    }

    /// Connection words for the server's `postgres` database as its superuser.
    var adminConninfo: String { "host=127.0.0.1 port=\(port) user=postgres dbname=postgres" }

    /// A URI of the server's `postgres` database, as an operator would pass to `--db`.
    var uri: String { "postgres://postgres@127.0.0.1:\(port)/postgres" }

    /// Connection words for `schema` on this server.
    func conninfo(schema: String) -> String {
        "\(adminConninfo) options='-c search_path=\(schema)'"
    }

    /// A URI for `schema` on this server, for `sessionctl --db`.
    func uri(schema: String) -> String {
        "\(uri)?options=-csearch_path%3D\(schema)"
    }

    /// Creates an empty schema of its own for one store and returns its name.
    func makeSchema() throws -> String {
        let name = "t\(getpid())_\(schemas.add(1, ordering: .relaxed).newValue)"
        try execute("CREATE SCHEMA \(name)")
        return name
    }

    /// Runs `sql` on the server's `postgres` database as its superuser.
    func execute(_ sql: String) throws {
        try admin.use { try $0.executeScript(sql: sql) }
    }

    /// One connection as the superuser, shared: a test that connects for every statement
    /// would make the server start a process for each.
    private var admin: SharedConnection { SharedConnection.of(adminConninfo) }

    private static func start(listenAddresses: [String] = ["127.0.0.1"]) async throws -> PostgresServer {
        let initdb = "\(binaries)/initdb"
        guard FileManager.default.isExecutableFile(atPath: initdb) else {
            throw ServerError(message: "no PostgreSQL server binaries at \(binaries): run .ci/install-deps")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sessionstore-pg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: directory)
        let asServer = Self.asServer
        let initialized = try await run(
            asServer + [initdb, "-D", "\(directory)/data", "-A", "trust", "-U", "postgres", "--no-locale", "-E", "UTF8", "--no-sync"])
        guard initialized.status == 0 else {
            throw ServerError(message: "initdb failed (\(initialized.status)): \(initialized.stderr)")
        }
        if listenAddresses.count > 1 {
            let hba = URL(fileURLWithPath: "\(directory)/data/pg_hba.conf")
            let trusted = try String(contentsOf: hba, encoding: .utf8) + "host all all 127.0.0.0/8 trust\n"
            try trusted.write(to: hba, atomically: false, encoding: .utf8)
        }
        var lastFailure = ""
        for _ in 0..<5 {
            let port = try freePort()
            let options = (["-p \(port)", "-k \(directory)", "-c listen_addresses=\(listenAddresses.joined(separator: ","))"] + settings)
                .joined(separator: " ")
            let started = try await run(
                asServer + ["\(binaries)/pg_ctl", "-D", "\(directory)/data", "-o", options, "-l", "\(directory)/log", "-w", "start"])
            if started.status == 0 {
                try await watch(directory: directory, asServer: asServer)
                return PostgresServer(directory: directory, port: port)
            }
            lastFailure = (try? String(contentsOfFile: "\(directory)/log", encoding: .utf8)) ?? started.stderr
        }
        throw ServerError(message: "PostgreSQL did not start: \(lastFailure)")
    }

    /// Starts a watcher that stops the server and removes `directory` once this process
    /// has ended.
    static func watch(directory: String, asServer: [String]) async throws {
        let stop = (asServer + ["\(binaries)/pg_ctl", "-D", "\(directory)/data", "-m", "immediate", "stop"])
            .map { "'\($0)'" }.joined(separator: " ")
        let script = "(while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; \(stop); rm -rf '\(directory)') "
            + "</dev/null >/dev/null 2>&1 &"
        let result = try await Command.run("/usr/bin/setsid", ["/bin/sh", "-c", script])
        guard result.status == 0 else { throw ServerError(message: "could not start the server's watcher: \(result.stderr)") }
    }

    static func run(_ command: [String]) async throws -> CommandResult {
        try await Command.run(command[0], Array(command.dropFirst()))
    }

    /// A TCP port on 127.0.0.1 that nothing listens on now.
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ServerError(message: "socket() failed: \(errno)") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(descriptor, socketAddress, length) == 0 && getsockname(descriptor, socketAddress, &length) == 0
            }
        }
        guard bound else { throw ServerError(message: "bind() failed: \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    struct ServerError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}

/// A connection shared by the tests that use the same connection words, one statement at
/// a time; connected again when the server ended it.
final class SharedConnection: @unchecked Sendable {
    private let conninfo: String
    private let lock = NSLock()
    private var connection: PGConnection?

    private init(conninfo: String) {
        self.conninfo = conninfo
    }

    private static let all = Mutex<[String: SharedConnection]>([:])

    /// The shared connection for `conninfo`.
    static func of(_ conninfo: String) -> SharedConnection {
        all.withLock { all in
            if let shared = all[conninfo] { return shared }
            let shared = SharedConnection(conninfo: conninfo)
            all[conninfo] = shared
            return shared
        }
    }

    /// Forgets the shared connection for `conninfo` (its schema is no longer used).
    static func forget(_ conninfo: String) {
        _ = all.withLock { $0.removeValue(forKey: conninfo) }
    }

    func use<T>(_ body: (PGConnection) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        if connection?.isBroken ?? true {
            connection = try PGConnection(conninfo: conninfo)
        }
        guard let connection else { throw PostgresServer.ServerError(message: "no connection") }
        return try body(connection)
    }
}

/// Bounds how many stores on the server tests hold at once: the suite's other tests run
/// beside them on the same cores, and some of those have time limits. A conformance test
/// on PostgreSQL waits here for a slot before its store exists.
final class ConnectionBudget: Sendable {
    static let stores = ConnectionBudget(slots: 12)

    private struct State {
        var free: Int
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>

    init(slots: Int) {
        state = Mutex(State(free: slots))
    }

    /// Takes a slot, waiting for one when all are taken.
    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state -> Bool in
                if state.free > 0 {
                    state.free -= 1
                    return true
                }
                state.waiting.append(continuation)
                return false
            }
            if granted { continuation.resume() }
        }
    }

    /// Gives a slot back (to the longest waiter, if any).
    func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiting.isEmpty {
                state.free += 1
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}
