import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import SessionStore

/// The scripted tour of every capability, on a real file, with real waits where time
/// matters. Running it again on the same file works: it first closes the sessions a
/// previous run left.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Show every capability in a short scripted scenario, then how to inspect the store with sqlite3 or psql.",
        discussion: """
            Takes 3 to 4 seconds: session and execution timeouts are real, and short. Uses --db (default \
            ./sessions.sqlite); running it again on the same file works, and what it prints counts only what \
            that run did. \
            With --json the narrative is one object a line (JSON Lines) as it happens: {"type": "title", \
            "section", "note", "line" or "row", "text", "fields"}, where fields holds a table row's cells by \
            column and is empty for the other types.
            """)

    @OptionGroup var global: GlobalOptions

    static let users = ["alice", "bob", "carol"]

    func run() async throws {
        var configuration = try global.makeConfiguration()
        configuration.tick = .milliseconds(250)
        configuration.limits.maxSessionsPerUser = 2
        configuration.detachedTimeout = .milliseconds(1500)
        configuration.minTimeout = .milliseconds(500)
        let narrator = Narrator(json: global.json)
        let path = global.databasePath
        let address = try StoreAddress(path)

        narrator.title("SessionStore demo on \(address.description)")
        let bobKey = try await withStore(global, configuration: configuration) { store in
            try await Self.tidyPreviousRun(store, narrator)
            // Counts below start here, so a second run reports only its own.
            let start = try await store.latestEventSeq()
            let sessions = try await Self.openSessions(store, narrator)
            try await Self.runExecutions(store, sessions, narrator)
            try await Self.refuseByLimit(store, after: start, narrator)
            try await Self.expireWithNotification(store, narrator)
            return sessions.bob.key
        }
        try await Self.crashAndRecover(path: path, global: global, configuration: configuration, narrator)
        Self.printInspection(path: path, address: address, narrator)
        Self.printNextSteps(path: path, sessionKey: bobKey, narrator)
    }

    private static func tidyPreviousRun(_ store: SessionStore, _ narrator: Narrator) async throws {
        var closed = 0
        for user in users {
            for session in try await store.listSessions(SessionFilter(states: .live, userId: user, limit: 1000)) {
                try await store.closeSession(key: session.key, reason: "demo restarted")
                closed += 1
            }
        }
        if closed > 0 {
            narrator.note("Closed \(closed) sessions left by a previous run of the demo.")
        }
    }

    private struct DemoSessions {
        let alice: Session
        let bob: Session
        let carol: Session
        let carolChild: Session
    }

    private static func openSessions(_ store: SessionStore, _ narrator: Narrator) async throws -> DemoSessions {
        narrator.section("1. Sessions: three users open sessions with details, config and links")
        var request = OpenSessionRequest(userId: "alice")
        request.dataSource = "telemetry"
        request.details = ["device": "sensor-7", "site": "lab"]
        request.config = ["sampling.rate": "10Hz"]
        request.clientAddress = "10.0.0.7"
        let alice = try await store.openSession(request)

        // reconnect: a previous run's tombstone of this session id does not block a new one.
        var notebook = OpenSessionRequest(userId: "bob", sessionId: "notebook-1")
        notebook.reconnect = true
        let bob = try await store.openSession(notebook)
        try await store.setConfig(key: bob.key, ["spark.sql.shuffle.partitions": "8"])
        try await store.setConfig(key: bob.key, ["spark.sql.shuffle.partitions": "16"])

        var child = OpenSessionRequest(userId: "carol", sessionId: "dashboard-tile")
        child.dataSource = "telemetry"
        child.timeout = .never
        child.reconnect = true
        let carolChild = try await store.openSession(child)
        var parent = OpenSessionRequest(userId: "carol", sessionId: "dashboard")
        parent.dataSource = "telemetry"
        parent.associates = [carolChild.key]
        parent.identifier = "ops-board"
        parent.reconnect = true
        let carol = try await store.openSession(parent)

        let all = [alice, bob, carol, carolChild]
        narrator.table(
            ["USER", "SESSION ID", "DATA SOURCE", "KEY", "TIMEOUT", "DETAILS / CONFIG"],
            try await all.asyncMap { session in
                let current = try await store.session(key: session.key) ?? session
                let extra = (current.details.merging(current.config) { a, _ in a })
                    .sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                return [
                    current.userId, current.sessionId ?? "-", current.dataSource, current.key,
                    current.timeout.description, extra,
                ]
            })
        let tree = try await store.sessionTree(key: carol.key)
        let root = tree.node(tree.root)?.session
        let children = tree.children(of: tree.root).map { $0.session.sessionId ?? $0.session.key }
        narrator.note("carol's session tree: \(root?.sessionId ?? "") → \(children.joined(separator: ", "))")
        let configChanges = try await store.listEvents(filter: EventFilter(sessionKey: bob.key, kind: EventKind.configChanged))
        for event in configChanges {
            narrator.note("config change on bob's session: \(event.payload["name"] ?? "") \(event.payload["old"] ?? "(unset)") → \(event.payload["new"] ?? "")")
        }
        let again = try await store.openIsolatedSession(userId: "bob", sessionId: "notebook-1")
        narrator.note("bob opening session id notebook-1 again (isolated) gets the same session: \(again.key == bob.key)")
        let foreign = try await store.isolatedSession(userId: "alice", sessionId: "notebook-1")
        narrator.note("alice asking for bob's session id finds: \(foreign.map(\.key) ?? "nothing")")
        return DemoSessions(alice: alice, bob: bob, carol: carol, carolChild: carolChild)
    }

    private static func runExecutions(_ store: SessionStore, _ sessions: DemoSessions, _ narrator: Narrator) async throws {
        narrator.section("2. Executions: a full life, an interrupt by tag, an abandoned reattachable execution")
        let query = try await store.createExecution(key: sessions.alice.key, tags: ["report"], statement: "SELECT avg(temp) FROM readings")
        for status in [ExecutionStatus.started, .analyzed, .readyForExecution, .finished, .closed] {
            try await store.setExecutionStatus(key: sessions.alice.key, operationId: query.operationId, to: status)
        }
        narrator.note("alice's execution went pending → started → analyzed → readyForExecution → finished → closed.")
        do {
            try await store.setExecutionStatus(key: sessions.alice.key, operationId: query.operationId, to: .started)
        } catch let error as SessionStoreError {
            narrator.note("moving it back to started is refused: \(error.code)")
        }

        let etl1 = try await store.createExecution(key: sessions.bob.key, tags: ["etl"], statement: "INSERT INTO daily SELECT ...")
        try await store.createExecution(key: sessions.bob.key, tags: ["etl", "nightly"], statement: "MERGE INTO facts ...")
        let other = try await store.createExecution(key: sessions.bob.key, tags: ["adhoc"], statement: "SELECT 1")
        try await store.setExecutionStatus(key: sessions.bob.key, operationId: etl1.operationId, to: .started)
        try await store.registerQuery(key: sessions.bob.key, queryId: "ingest-stream", runId: "run-1", tags: ["etl"])
        let interrupted = try await store.interrupt(key: sessions.bob.key, tag: "etl")
        narrator.note("interrupting tag etl in bob's session canceled \(interrupted.operationIds.count) executions and stopped the etl streaming query \(interrupted.queryIds.joined(separator: ", ")); the adhoc one runs on.")
        try await store.setExecutionStatus(key: sessions.bob.key, operationId: other.operationId, to: .started)

        let long = try await store.createExecution(key: sessions.carol.key, tags: ["dashboard"], statement: "SELECT * FROM live_view", reattachable: true)
        try await store.setExecutionStatus(key: sessions.carol.key, operationId: long.operationId, to: .started)
        try await store.detachExecution(key: sessions.carol.key, operationId: long.operationId)
        narrator.note("carol's reattachable execution was detached; waiting past the detached timeout (1.5 s)…")
        try await Task.sleep(for: .milliseconds(1800))
        let maintenance = try await store.runExecutionMaintenance()
        let abandoned = maintenance.abandonedOperations.keys.contains(long.operationId)
        narrator.note("the execution sweep abandoned it: \(abandoned ? "yes" : "not yet"); reusing its id now fails:")
        do {
            try await store.createExecution(key: sessions.carol.key, operationId: long.operationId)
        } catch let error as SessionStoreError {
            narrator.note("  \(error.code)")
        }
        try await store.addResource(key: sessions.bob.key, kind: "temp-view", name: "daily_v", bytes: 4096)
        try await store.addResource(key: sessions.bob.key, kind: "artifact", name: "udfs.jar", bytes: 1_048_576)

        let executions = try await store.listExecutions(key: sessions.bob.key) + store.listExecutions(key: sessions.carol.key)
            + store.listExecutions(key: sessions.alice.key)
        narrator.table(
            ["USER", "OPERATION", "TAGS", "STATUS", "ATTACHED"],
            executions.map { [$0.userId, $0.operationId, $0.tags.joined(separator: ","), $0.status.rawValue, $0.attached ? "yes" : "no"] })
    }

    private static func refuseByLimit(_ store: SessionStore, after start: Int64, _ narrator: Narrator) async throws {
        narrator.section("3. Limits: max-sessions-per-user = 2 is enforced in the insert's transaction")
        var second = OpenSessionRequest(userId: "alice", sessionId: "second")
        second.reconnect = true
        _ = try await store.openSession(second)
        do {
            var third = OpenSessionRequest(userId: "alice", sessionId: "third")
            third.reconnect = true
            _ = try await store.openSession(third)
        } catch let error as SessionStoreError {
            narrator.note("alice's third open is refused: \(error.code) — \(error.message)")
        }
        let refusals = try await store.listEvents(after: start, filter: EventFilter(kind: EventKind.sessionRefused))
        narrator.note("refusals this run recorded as session.refused events: \(refusals.count)")
    }

    private static func expireWithNotification(_ store: SessionStore, _ narrator: Narrator) async throws {
        narrator.section("4. Expiry: a 1-second session expires through the sweeper while a stop stream listens")
        let stops = try await store.sessionStops(dataSource: "telemetry", pollInterval: .milliseconds(20))
        var request = OpenSessionRequest(userId: "bob", sessionId: "short-lived")
        request.reconnect = true
        request.dataSource = "telemetry"
        request.timeout = .after(.seconds(1))
        let short = try await store.openSession(request)
        narrator.note("bob opened \(short.key), expiring at \(short.expireAt?.iso8601 ?? "-"); the sweeper runs every tick (250 ms).")
        let sweeper = ExpirySweeper(store: store, interval: .milliseconds(250), jitter: .zero)
        let notification = try await withThrowingTaskGroup(of: SessionNotification?.self) { group in
            group.addTask {
                try await sweeper.run()
                return nil
            }
            group.addTask {
                for try await stop in stops where stop.sessionKey == short.key {
                    return stop
                }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: .seconds(10))
                return nil
            }
            // The first task to finish is the stream (with the notification) or the time
            // limit; the sweeper runs until cancelled.
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
        if let notification {
            narrator.note("stop notification received: session \(notification.sessionKey) of \(notification.dataSource) (event #\(notification.seq))")
        } else {
            narrator.note("no stop notification arrived within 10 s")
        }
        let ended = try await store.session(key: short.key)
        narrator.note("the session is now \(ended?.state.rawValue ?? "gone"), ended at \(ended?.endedAt?.iso8601 ?? "-")")
    }

    private static func crashAndRecover(
        path: String, global: GlobalOptions, configuration: SessionStoreConfiguration, _ narrator: Narrator
    ) async throws {
        narrator.section("5. Crash and recovery: a load generator is killed with SIGKILL, then the store is reopened")
        let lineCount: @Sendable ([UInt8]) -> Int = { bytes in bytes.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } }
        let child = try await KilledChild.run(
            "/proc/self/exe",
            ["load", "--db", path, "--sessions", "100000", "--executions", "2", "--concurrency", "4", "--seed", "\(getpid())"],
            reading: .output, until: { lineCount($0) >= 300 })
        let committed = lineCount(child.read)
        narrator.note("the load generator reported \(committed) committed changes, then was killed (pid \(child.pid)).")

        let address = try StoreAddress(path)
        let store = try await address.open(configuration: configuration)
        if let recovery = store.recovery {
            narrator.table(
                ["DEAD INSTANCES", "FAILED EXECUTIONS", "DETACHED EXECUTIONS", "ENDED SESSIONS", "RE-ARMED FROM"],
                [[
                    "\(recovery.deadInstances)", "\(recovery.failedExecutions)", "\(recovery.detachedExecutions)",
                    "\(recovery.endedSessions)", recovery.rearmEpoch?.iso8601 ?? "-",
                ]])
        } else {
            narrator.note("recovery found nothing to do")
        }
        let report = try await store.checkIntegrity()
        narrator.note("integrity check: \(report.integrity.joined(separator: "; ")); foreign keys: \(report.foreignKeyViolations.isEmpty ? "ok" : "violations")")
        await store.close()
        let again = try await address.open(configuration: configuration)
        narrator.note("opening it again does no further recovery work: \(again.recovery == nil)")
        await again.close()
    }

    private static func printInspection(path: String, address: StoreAddress, _ narrator: Narrator) {
        let quoted = "'" + path.replacingOccurrences(of: "'", with: "'\\''") + "'"
        let shell = address.isPostgres ? "psql \(quoted) -c" : "sqlite3 -header -column \(quoted)"
        narrator.section("6. Inspect what the demo left with the \(address.isPostgres ? "psql" : "sqlite3") shell")
        for command in [
            "\(shell) 'SELECT user_id, client_session_id, data_source, state, expires FROM live_sessions'",
            "\(shell) 'SELECT * FROM session_tree'",
            "\(shell) 'SELECT operation_id, user_id, status, tags FROM active_executions'",
            "\(shell) 'SELECT seq, at, kind, session_key FROM recent_events LIMIT 15'",
            "\(shell) 'SELECT * FROM user_session_counts'",
            "\(shell) \"SELECT at, payload FROM recent_events WHERE kind = 'store.recovered'\"",
        ] {
            narrator.line("  " + command)
        }
    }

    private static func printNextSteps(path: String, sessionKey: String, _ narrator: Narrator) {
        narrator.section("Next")
        let db = path == "./sessions.sqlite" || path == "sessions.sqlite" ? "" : " --db '\(path.replacingOccurrences(of: "'", with: "'\\''"))'"
        for line in [
            "  sessionctl\(db) top                          a live view (Ctrl-C to leave)",
            "  sessionctl\(db) list --state all             every session, ended ones too",
            "  sessionctl\(db) events --session-key \(sessionKey)   one session's story",
            "  sessionctl\(db) serve --listen 127.0.0.1:50051   the gRPC API; clients in any language",
            "  the Python client and grpcurl examples: docs/grpc.md",
        ] {
            narrator.line(line)
        }
        narrator.line("")
        narrator.line("Demo complete: sessions, executions, limits, expiry with notifications and crash recovery shown.")
    }
}

/// Prints the demo's narrative: section headings, notes and tables; with `json`, one
/// object a line.
struct Narrator {
    var json = false

    func title(_ text: String) {
        guard !json else { return emit("title", text) }
        line(text)
        line(String(repeating: "=", count: text.count))
    }

    func section(_ text: String) {
        guard !json else { return emit("section", text) }
        line("")
        line(text)
        line(String(repeating: "-", count: text.count))
    }

    func note(_ text: String) {
        guard !json else { return emit("note", text) }
        line("• " + text)
    }

    func table(_ header: [String], _ rows: [[String]]) {
        guard json else { return Output(json: false).printTable(header, rows, write: line) }
        for row in rows {
            emit("row", row.joined(separator: "  "), fields: Dictionary(zip(header, row), uniquingKeysWith: { first, _ in first }))
        }
    }

    /// A line as it is; in JSON an empty one, a spacer for people, is left out.
    func line(_ text: String) {
        guard json else { return Output.printLine(text) }
        if !text.isEmpty { emit("line", text) }
    }

    private func emit(_ type: String, _ text: String, fields: [String: String] = [:]) {
        struct Line: Encodable {
            let type: String
            let text: String
            let fields: [String: String]
        }
        // Strings only: encoding cannot fail.
        try? Output(json: true).printJSON(Line(type: type, text: text, fields: fields))
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        results.reserveCapacity(count)
        for element in self {
            results.append(try await transform(element))
        }
        return results
    }
}
