import Foundation
import SessionStore
import SessionStoreSQLite
import Synchronization
import Testing

/// Every statement the store prepares, captured from its own connections while a workload
/// runs every public operation, is planned with `EXPLAIN QUERY PLAN`: none reads a whole
/// table that grows with the number of sessions, executions or events, and each hot
/// query uses the index made for it. The statements are the library's own, not copies,
/// so a query the library changes is checked as it is now.
@Suite struct PreparedStatementPlanTests {
    /// Tables whose size does not grow with use: one row per scope, kind, instance,
    /// subscription or migration. Reading one whole is as cheap as a lookup.
    static let boundedTables: Set<String> = [
        "live_session_counts", "event_totals", "store_state", "instances", "subscriptions", "schema_migrations",
    ]

    /// Statements allowed to read a growing table whole, each with its reason.
    static let allowedScans: [(fragment: String, reason: String)] = [
        ("SELECT count(*) FROM \"", "storageStatus() reports the rows of every table: an inspection, not a request path")
    ]

    final class Recorder: Sendable {
        let statements = Mutex<Set<String>>([])
        func record(_ sql: String) { _ = statements.withLock { $0.insert(sql) } }
    }

    /// Runs every kind of operation the store offers against one file.
    static func workload(_ store: SessionStore, _ test: TestStore) async throws {
        var request = OpenSessionRequest(userId: "ada", sessionId: "nb-1")
        request.dataSource = "warehouse"
        request.clientAddress = "10.0.0.1"
        request.details = ["device": "d-1"]
        request.config = ["spark.sql.ansi": "true"]
        let parent = try await store.openSession(request)
        let child = try await store.openSession(userId: "ada", sessionId: "nb-2", dataSource: "warehouse")
        try await store.addAssociate(parentKey: parent.key, childKey: child.key)
        _ = try await store.openIsolatedSession(userId: "ada", sessionId: "nb-1")
        _ = try await store.isolatedSession(userId: "ada", sessionId: "nb-2")
        _ = try await store.session(key: parent.key)
        _ = try await store.touch(key: parent.key)
        test.clock.advance(by: .milliseconds(120_000))
        _ = try await store.touch(key: parent.key)
        try await store.updateDetails(key: parent.key, ["site": "s-1"])
        try await store.removeDetails(key: parent.key, names: ["device"])
        _ = try await store.setConfig(key: parent.key, ["spark.sql.ansi": "false"])
        try await store.updateIdentifier(key: parent.key, "notebook")
        _ = try await store.listChildren(key: parent.key)
        _ = try await store.listParents(key: child.key)
        _ = try await store.sessionTree(key: parent.key)
        _ = try await store.listSessions(SessionFilter(states: .live, userId: "ada"))
        _ = try await store.listSessions(SessionFilter(states: .ended, dataSource: "warehouse"))
        _ = try await store.listSessions(SessionFilter(states: .all, limit: 10))
        _ = try await store.listCurrentSessions(dataSource: "warehouse")
        try await orderedListings(store, after: child.key)
        _ = try await store.sessionStatistics(key: parent.key)

        let execution = try await store.createExecution(
            key: parent.key, tags: ["etl"], statement: "SELECT 1", reattachable: true, timeout: .seconds(60))
        _ = try await store.setExecutionStatus(key: parent.key, operationId: execution.operationId, to: .started)
        _ = try await store.detachExecution(key: parent.key, operationId: execution.operationId)
        _ = try await store.attachExecution(key: parent.key, operationId: execution.operationId)
        _ = try await store.execution(key: parent.key, operationId: execution.operationId)
        _ = try await store.listExecutions(key: parent.key)
        _ = try await store.listActiveExecutions()
        _ = try await store.listAbandonedExecutions()
        _ = try await store.interrupt(key: parent.key, tag: "etl")
        let second = try await store.createExecution(key: parent.key)
        _ = try await store.interrupt(key: parent.key, operationId: second.operationId)
        _ = try await store.createExecution(key: parent.key)
        _ = try await store.interruptAll(key: parent.key)
        _ = try await store.runExecutionMaintenance()
        // None runs now: the answer is when the last one ended.
        _ = try await store.listActiveExecutions()

        _ = try await store.registerQuery(key: parent.key, queryId: "q-1", runId: "r-1", name: "stream", tags: ["etl"])
        _ = try await store.query(key: parent.key, queryId: "q-1")
        _ = try await store.listQueries(key: parent.key)
        _ = try await store.listActiveQueries(key: parent.key)
        _ = try await store.stopQuery(key: parent.key, queryId: "q-1")
        try await store.removeQuery(key: parent.key, queryId: "q-1")
        _ = try await store.addResource(key: parent.key, kind: "cache", name: "df-1", bytes: 1024)
        _ = try await store.listResources(key: parent.key)
        _ = try await store.releaseResource(key: parent.key, kind: "cache", name: "df-1")

        _ = try await store.listEvents(after: 0, limit: 10)
        _ = try await store.listEvents(after: 0, limit: 10, filter: EventFilter(sessionKey: parent.key))
        _ = try await store.listEvents(after: 0, limit: 10, filter: EventFilter(kind: "session.started"))
        _ = try await store.latestEventSeq()
        for filter in [EventFilter(), EventFilter(sessionKey: parent.key), EventFilter(kind: "session.started")] {
            _ = try await store.listLastEvents(after: 0, limit: 10, filter: filter)
            _ = try await store.countEvents(after: 1, before: 100, filter: filter)
        }
        _ = try await NotificationKit.first(1, of: store.events(from: 0))
        _ = try await NotificationKit.first(1, of: store.events(from: 0, kinds: [EventKind.sessionStarted]))
        _ = try await NotificationKit.first(1, of: store.events(from: 0, kinds: [EventKind.sessionStarted, EventKind.sessionEnded]))
        let subscription = try store.subscription(named: "audit")
        _ = try await subscription.listPendingEvents(limit: 10)
        try await subscription.acknowledge(through: 1)
        _ = try await subscription.acknowledgedSeq()
        _ = try await store.metricsSnapshot()
        _ = try await store.storageStatus()
        try await store.heartbeat()

        let scoped = try store.acting(as: "ada")
        _ = try await scoped.listEvents(after: 0, limit: 10)
        _ = try await scoped.listEvents(after: 0, limit: 10, filter: EventFilter(kind: "session.started"))
        _ = try await scoped.latestEventSeq()
        _ = try await NotificationKit.first(1, of: scoped.events(from: 0))
        _ = try await scoped.listActiveExecutions()
        _ = try await scoped.listAbandonedExecutions()
        _ = try await scoped.sessionTree(key: parent.key)
        _ = try await scoped.touch(key: parent.key)

        try await overdueWorkload(store, test)

        _ = try await store.closeSession(key: child.key)
        _ = try await store.openSession(userId: "bob", timeout: .after(.milliseconds(60_000)))
        test.clock.advance(by: .milliseconds(3_600_000))
        // The due sessions were not accessed since this epoch: the sweep re-arms them.
        try ExpiryKit.rearm(test, epoch: test.clock.now(), tick: 1)
        _ = try await store.dueSessionCount()
        _ = try await store.sweep(progress: { _ in })
        // Past the retention of tombstones, events and stopped queries: the sweep prunes.
        test.clock.advance(by: .milliseconds(8 * 86_400_000))
        _ = try await store.sweep()
    }

    /// Every listing order over every kind of state filter, alone, by user and by data
    /// source: from the start and after a key a row at a time (so the next page is read
    /// too), and whole (so an order in parts reaches its last), each with the count of what
    /// the page left out.
    static func orderedListings(_ store: SessionStore, after key: String) async throws {
        let states: [SessionFilter.States] = [.live, .ended, .all, .only(.idle), .only(.expired), .only(.closed), .only(.closing)]
        for order in SessionOrder.allCases {
            for state in states {
                for (userId, dataSource) in [(nil, nil), ("ada", nil), (nil, "warehouse")] as [(String?, String?)] {
                    for (after, limit) in [(nil, 1), (key, 1), (nil, 10_000)] as [(String?, Int)] {
                        var filter = SessionFilter(states: state, userId: userId, dataSource: dataSource, limit: limit, after: after)
                        filter.order = order
                        _ = try await store.listSessionsCounting(filter)
                    }
                }
            }
        }
    }

    /// Sessions past their expiry: reads show them expired, a write ends one, and limits
    /// of an address and of a user at an address each end the overdue sessions holding
    /// their slots.
    static func overdueWorkload(_ store: SessionStore, _ test: TestStore) async throws {
        var request = OpenSessionRequest(userId: "eve")
        request.clientAddress = "10.0.0.2"
        request.timeout = .after(.milliseconds(1_000))
        let written = try await store.openSession(userId: "eve", timeout: .after(.milliseconds(1_000)))
        _ = try await store.openSession(request)
        test.clock.advance(by: .milliseconds(2_000))
        _ = try await store.touch(key: written.key)
        _ = try await store.listSessions(SessionFilter(states: .only(.expired)))
        _ = try await store.metricsSnapshot()
        _ = try? await store.updateDetails(key: written.key, ["a": "1"])
        // The user-at-address limit (1) ends the overdue session of eve at that address.
        _ = try await store.openSession(request)
        request.userId = "fay"
        _ = try await store.openSession(request)
        test.clock.advance(by: .milliseconds(2_000))
        // The address limit (2) ends fay's overdue session.
        request.userId = "gus"
        _ = try await store.openSession(request)
    }

    /// A query the store runs, known by a fragment of its SQL (whitespace collapsed to
    /// single spaces), and the index its plan must name.
    struct IndexCase: Sendable {
        let name: String
        let fragment: String
        /// Text one line of the plan must contain.
        let uses: String
        /// Whether SQLite may sort the rows in a temporary b-tree (a session's own few
        /// rows); the queries that page through many rows must come in index order.
        var mayUseTempBTree = false
    }

    static let indexCases: [IndexCase] = [
        IndexCase(name: "session by key", fragment: "FROM sessions WHERE key = ?", uses: "USING INDEX sqlite_autoindex_sessions_1"),
        IndexCase(
            name: "newest by user and client session id", fragment: "WHERE user_id = ? AND client_session_id = ?",
            uses: "USING INDEX sessions_by_user_client_id"),
        IndexCase(
            name: "touch", fragment: "UPDATE sessions SET last_access_at = ?, expire_at = ?", uses: "USING INTEGER PRIMARY KEY"),
        IndexCase(name: "end", fragment: "UPDATE sessions SET state = ?, ended_at = ?", uses: "USING INTEGER PRIMARY KEY"),
        IndexCase(
            name: "due sessions", fragment: "FROM sessions WHERE expire_at <= ? AND state IN ('idle', 'active') ORDER BY expire_at",
            uses: "USING INDEX sessions_by_expiry"),
        IndexCase(
            name: "current sessions of a data source", fragment: "AND state IN ('idle', 'active') AND data_source = ?",
            uses: "USING INDEX sessions_live_by_data_source"),
        IndexCase(
            name: "live sessions of a user", fragment: "AND state IN ('idle', 'active') AND user_id = ?",
            uses: "USING INDEX sessions_by_user"),
        IndexCase(name: "tombstones past retention", fragment: "AND ended_at <= ? LIMIT ?", uses: "USING INDEX sessions_ended_by_time"),
        IndexCase(
            name: "live sessions newest first", fragment: "WHERE id < ? AND state IN ('idle', 'active') AND (expire_at",
            uses: "USING INTEGER PRIMARY KEY"),
        IndexCase(name: "sessions by user", fragment: "WHERE (user_id, id) > (?, ?)", uses: "USING INDEX sessions_by_user"),
        IndexCase(
            name: "sessions by expiry", fragment: "WHERE (expire_at, id) > (?, ?) AND state IN ('idle', 'active')",
            uses: "USING INDEX sessions_by_expiry"),
        IndexCase(
            name: "live sessions without an expiry, after those with one",
            fragment: "AND expire_at IS NULL AND (expire_at IS NULL OR", uses: "USING INDEX sessions_by_expiry"),
        IndexCase(
            name: "sessions due, counted", fragment: "SELECT count(*) FROM sessions WHERE state IN ('idle', 'active') AND expire_at <= ?",
            uses: "USING INDEX sessions_by_expiry"),
        IndexCase(
            name: "live sessions of a user not yet due, counted",
            fragment: "AND (expire_at IS NULL OR expire_at > ?) AND user_id = ?", uses: "USING INDEX sessions_by_user"),
        IndexCase(
            name: "live sessions of a data source not yet due, counted",
            fragment: "AND (expire_at IS NULL OR expire_at > ?) AND data_source = ?", uses: "USING INDEX sessions_live_by_data_source"),
        IndexCase(
            name: "tombstones, counted", fragment: "SELECT count(*) FROM sessions WHERE state IN ('closed', 'expired', 'failed') AND data_source",
            uses: "sessions_ended_by_time"),
        IndexCase(
            name: "live sessions whose stored expiry passed, read for a count",
            fragment: "FROM sessions WHERE expire_at <= ? AND state IN ('idle', 'active')", uses: "USING INDEX sessions_"),
        IndexCase(
            name: "live count", fragment: "FROM live_session_counts WHERE scope = ? AND name = ?",
            uses: "SEARCH live_session_counts USING PRIMARY KEY"),
        IndexCase(
            name: "details and config of a session", fragment: "FROM session_details WHERE session_id = ? UNION ALL",
            uses: "SEARCH session_config USING PRIMARY KEY"),
        IndexCase(
            name: "config value", fragment: "FROM session_config WHERE session_id = ? AND name = ?",
            uses: "SEARCH session_config USING PRIMARY KEY"),
        IndexCase(
            name: "parents of a session", fragment: "ON sessions.id = session_links.parent_id WHERE session_links.child_id = ?",
            uses: "session_links_by_child"),
        IndexCase(
            name: "children of a session", fragment: "ON sessions.id = session_links.child_id WHERE session_links.parent_id = ?",
            uses: "SEARCH session_links USING PRIMARY KEY"),
        IndexCase(
            name: "whether a link exists", fragment: "FROM session_links WHERE parent_id = ? AND child_id = ?",
            uses: "SEARCH session_links USING PRIMARY KEY"),
        IndexCase(
            name: "links of a session, as parent", fragment: "+ (SELECT count(*) FROM session_links WHERE child_id = ?)",
            uses: "SEARCH session_links USING PRIMARY KEY"),
        IndexCase(
            name: "links of a session, as child", fragment: "+ (SELECT count(*) FROM session_links WHERE child_id = ?)",
            uses: "session_links_by_child"),
        IndexCase(
            name: "running executions of a session",
            fragment: "WHERE executions.session_id = ? AND executions.status IN ('pending', 'started', 'analyzed', 'readyForExecution')",
            uses: "USING INDEX executions_running"),
        IndexCase(
            name: "running count of a session", fragment: "SELECT count(*) FROM executions WHERE session_id = ? AND status IN",
            uses: "USING INDEX executions_running"),
        IndexCase(
            name: "unclosed count of a session", fragment: "SELECT count(*) FROM executions WHERE session_id = ? AND closed_at IS NULL",
            uses: "USING INDEX executions_unclosed"),
        IndexCase(name: "attached running execution", fragment: "AND attached = 1 LIMIT 1", uses: "USING INDEX executions_running"),
        IndexCase(
            name: "execution by operation id", fragment: "WHERE executions.session_id = ? AND executions.operation_id = ?",
            uses: "USING INDEX sqlite_autoindex_executions_1"),
        IndexCase(
            name: "running executions by tag", fragment: "WHERE execution_tags.session_id = ? AND execution_tags.tag = ?",
            uses: "SEARCH execution_tags USING PRIMARY KEY", mayUseTempBTree: true),
        IndexCase(
            name: "tags of an execution", fragment: "FROM execution_tags WHERE execution_id = ?",
            uses: "USING COVERING INDEX execution_tags_by_execution", mayUseTempBTree: true),
        IndexCase(name: "abandonment", fragment: "executions.last_attached_at <= ?", uses: "USING INDEX executions_detached"),
        IndexCase(name: "execution deadlines", fragment: "executions.deadline_at <= ?", uses: "USING INDEX executions_by_deadline"),
        IndexCase(
            name: "running executions across sessions",
            fragment: "WHERE executions.status IN ('pending', 'started', 'analyzed', 'readyForExecution') ORDER BY executions.id LIMIT ?",
            uses: "USING INDEX executions_running_by_id"),
        IndexCase(name: "when the last execution ended", fragment: "SELECT max(ended_at) FROM executions", uses: "executions_by_end"),
        IndexCase(
            name: "abandoned tombstones", fragment: "WHERE executions.abandoned_at IS NOT NULL",
            uses: "USING INDEX executions_abandoned"),
        IndexCase(
            name: "active streaming queries", fragment: "AND streaming_queries.state = 'active'",
            uses: "USING INDEX streaming_queries_active"),
        IndexCase(
            name: "stopped streaming queries past retention", fragment: "state = 'stopped' AND stopped_at <= ?",
            uses: "USING INDEX streaming_queries_stopped"),
        IndexCase(
            name: "request payloads past retention", fragment: "ended_at IS NOT NULL AND request IS NOT NULL",
            uses: "USING INDEX executions_with_request"),
        IndexCase(
            name: "resource release by key", fragment: "DELETE FROM session_resources WHERE session_id = ? AND kind = ? AND name = ?",
            uses: "USING INDEX sqlite_autoindex_session_resources_1"),
        // Read, newest first or oldest first, and counted (from the index alone).
        IndexCase(name: "events of a session", fragment: "FROM events WHERE session_key = ? AND seq > ?", uses: "INDEX events_by_session"),
        IndexCase(name: "events of a kind", fragment: "FROM events WHERE kind = ? AND seq > ?", uses: "INDEX events_by_kind"),
        IndexCase(name: "newest events", fragment: "FROM events WHERE seq > ? ORDER BY seq DESC", uses: "USING INTEGER PRIMARY KEY"),
        IndexCase(name: "events counted", fragment: "SELECT count(*) FROM events WHERE seq > ? AND seq < ?", uses: "USING INTEGER PRIMARY KEY"),
        IndexCase(
            name: "new events", fragment: "FROM events WHERE seq > ? AND seq <= ? ORDER BY seq", uses: "USING INTEGER PRIMARY KEY"),
        IndexCase(
            name: "new events of one kind", fragment: "FROM events WHERE seq > ? AND seq <= ? AND kind = ?",
            uses: "USING INDEX events_by_kind"),
        IndexCase(
            name: "new events of several kinds", fragment: "FROM events WHERE seq > ? AND seq <= ? AND +kind IN",
            uses: "USING INTEGER PRIMARY KEY"),
        IndexCase(name: "events past retention", fragment: "FROM events WHERE at <= ?", uses: "USING COVERING INDEX events_by_time"),
        IndexCase(name: "events of a user", fragment: "FROM events WHERE user_id = ? AND seq > ?", uses: "USING INDEX events_by_user"),
        IndexCase(name: "new events of a user", fragment: "AND user_id = ? ORDER BY seq", uses: "USING INDEX events_by_user"),
        IndexCase(name: "newest event of a user", fragment: "FROM events WHERE user_id = ?", uses: "events_by_user"),
        IndexCase(
            name: "running executions of a user", fragment: "WHERE sessions.user_id = ? AND executions.status IN",
            uses: "USING INDEX executions_running", mayUseTempBTree: true),
        IndexCase(
            name: "abandoned executions of a user", fragment: "WHERE sessions.user_id = ? AND executions.abandoned_at",
            uses: "sessions_by_user", mayUseTempBTree: true),
    ]

    /// A NULL for each parameter of `sql`: enough to plan it (the plan does not depend on
    /// the values).
    static func nulls(for sql: String, in db: Database) throws -> [DatabaseValue] {
        [DatabaseValue](repeating: .null, count: try db.makeStatement(sql: sql).parameterCount)
    }

    /// The detail lines of `EXPLAIN QUERY PLAN` for `sql`.
    static func queryPlan(of sql: String, in db: Database) throws -> [String] {
        try db.fetchAll(sql: "EXPLAIN QUERY PLAN " + sql, nulls(for: sql, in: db)) { $0.string(3) }
    }

    /// `sql` with every run of whitespace made one space.
    static func collapsed(_ sql: String) -> String {
        sql.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    @Test func everyHotQueryUsesItsIndex() async throws {
        let (test, planned) = try await Self.capturedStatements()
        try test.inspect { db in
            for query in Self.indexCases {
                let matching = planned.filter { Self.collapsed($0).contains(query.fragment) }
                #expect(!matching.isEmpty, "\(query.name): no statement the store prepared contains \(query.fragment)")
                for sql in matching {
                    let plan = try Self.queryPlan(of: sql, in: db)
                    #expect(plan.contains { $0.contains(query.uses) }, "\(query.name) does not use \(query.uses):\n\(sql)\nplan: \(plan)")
                    if !query.mayUseTempBTree {
                        #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(query.name) sorts its rows:\n\(sql)\nplan: \(plan)")
                    }
                }
            }
        }
    }

    /// The scan check itself: it reports a table read whole, and not an index search or
    /// a scan of a partial index.
    @Test func theScanCheckRecognisesAScan() throws {
        #expect(Self.scannedTables(["SCAN executions"], partialIndexes: []) == ["executions"])
        #expect(Self.scannedTables(["SCAN sessions USING COVERING INDEX sqlite_autoindex_sessions_1"], partialIndexes: []) == ["sessions"])
        #expect(Self.scannedTables(["SCAN executions USING INDEX executions_running_by_id"], partialIndexes: ["executions_running_by_id"]).isEmpty)
        #expect(Self.scannedTables(["SEARCH executions USING INDEX executions_detached (last_attached_at<?)"], partialIndexes: []).isEmpty)
        // And a real plan of an unindexed filter is reported.
        let test = TestStore()
        let db = try Database(path: test.path)
        try db.execute(sql: "CREATE TABLE probe (id INTEGER PRIMARY KEY, statement TEXT)")
        let plan = try db.fetchAll(sql: "EXPLAIN QUERY PLAN SELECT id FROM probe WHERE statement = ?", [.text("x")]) { $0.string(3) }
        #expect(Self.scannedTables(plan, partialIndexes: []) == ["probe"], "\(plan)")
    }

    /// The tables named by `SCAN` lines of a plan: read from one end of the table or of
    /// an index rather than searched for a key. A scan of a partial index is left out:
    /// it reads only the rows the index's own condition selects (the running
    /// executions, say), which is what such a query asks for.
    static func scannedTables(_ plan: [String], partialIndexes: Set<String>) -> [String] {
        plan.compactMap { line -> String? in
            guard line.hasPrefix("SCAN ") else { return nil }
            let words = line.split(separator: " ").map(String.init)
            if let index = words.firstIndex(of: "INDEX"), index + 1 < words.count, partialIndexes.contains(words[index + 1]) {
                return nil
            }
            return words.count > 1 ? words[1] : nil
        }
    }

    /// Runs the workload on a new file; returns the file and the data statements (not
    /// pragmas or transaction control) the store prepared.
    static func capturedStatements() async throws -> (TestStore, [String]) {
        let test = TestStore()
        let recorder = Recorder()
        try await test.withStore { configuration in
            configuration.statementObserver = { recorder.record($0) }
            configuration.limits.maxSessionsPerUser = 100
            configuration.limits.maxSessionsPerAddress = 2
            configuration.limits.maxSessionsPerUserAddress = 1
            configuration.limits.maxConcurrentExecutionsPerSession = 100
        } body: { store in
            try await workload(store, test)
        }
        let planned = recorder.statements.withLock { $0 }.filter { sql in
            let keyword = sql.split(whereSeparator: \.isWhitespace).first?.uppercased() ?? ""
            return ["SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "REPLACE"].contains(keyword)
        }
        return (test, planned.sorted())
    }

    @Test func everyPreparedStatementAvoidsScanningGrowingTables() async throws {
        let (test, planned) = try await Self.capturedStatements()
        // The workload reaches the hot paths; without these the check proves little.
        for fragment in [
            "UPDATE sessions SET last_access_at", "SET state = ?, ended_at = ?", "WHERE expire_at <= ?", "INSERT INTO events",
            "UPDATE executions", "DELETE FROM sessions", "DELETE FROM events", "streaming_queries", "session_resources",
            "AND expire_at <= ? AND client_address = ?", "AND expire_at <= ? AND user_id = ? AND client_address = ?",
        ] {
            #expect(planned.contains { $0.contains(fragment) }, "no statement containing \(fragment) was prepared")
        }
        #expect(planned.count > 60, "only \(planned.count) statements were captured")

        var offenders: [String] = []
        try test.inspect { db in
            let growing = Set(
                try db.fetchAll(sql: "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'") {
                    $0.string(0)
                }
            ).subtracting(Self.boundedTables)
            #expect(growing.isSuperset(of: ["sessions", "executions", "events", "session_details"]))
            let partialIndexes = Set(
                try db.fetchAll(sql: "SELECT name FROM sqlite_schema WHERE type = 'index' AND sql LIKE '% WHERE %'") {
                    $0.string(0)
                })
            #expect(partialIndexes.contains("sessions_by_expiry"))
            for sql in planned {
                let plan = try Self.queryPlan(of: sql, in: db)
                let scanned = Self.scannedTables(plan, partialIndexes: partialIndexes).filter(growing.contains)
                guard !scanned.isEmpty else { continue }
                if Self.allowedScans.contains(where: { sql.contains($0.fragment) }) { continue }
                offenders.append("\(scanned.joined(separator: ", ")) scanned by:\n\(sql)\nplan: \(plan)")
            }
        }
        #expect(offenders.isEmpty, "\(offenders.count) statements scan a growing table:\n\(offenders.joined(separator: "\n\n"))")
    }

    /// `sessions_by_user` names no column a row update of `sessions` changes, so none of
    /// the updates the store runs (ending, touching, re-arming, activating, counting)
    /// opens it for writing: the sweeper's cost does not depend on where a user's
    /// sessions sit in that index. Those that change the state or the expiry do write
    /// `sessions_by_expiry`, which shows the check can see an index being written.
    @Test func sessionRowUpdatesNeverWriteTheUserIndex() async throws {
        let (test, planned) = try await Self.capturedStatements()
        let updates = planned.filter { $0.hasPrefix("UPDATE sessions SET") }
        for fragment in ["SET state = ?, ended_at = ?", "SET last_access_at = ?, expire_at = ?", "SET expire_at = ?", "SET state = ?\n"] {
            #expect(updates.contains { $0.contains(fragment) }, "no session update containing \(fragment) was prepared")
        }
        try test.inspect { db in
            let root = { (name: String) throws -> Int64 in
                try db.fetchInt64(sql: "SELECT rootpage FROM sqlite_schema WHERE name = ?", [.text(name)]) ?? -1
            }
            let byUser = try root("sessions_by_user")
            let byExpiry = try root("sessions_by_expiry")
            #expect(byUser > 0)
            for sql in updates {
                let written = try db.fetchAll(sql: "EXPLAIN " + sql, Self.nulls(for: sql, in: db)) { row in (row.string(1), row.int64(3)) }
                    .filter { $0.0 == "OpenWrite" }.map(\.1)
                #expect(!written.contains(byUser), "\(sql) writes sessions_by_user (root \(byUser)); written roots \(written)")
                if sql.contains("state = ?") || sql.contains("expire_at = ?") {
                    #expect(written.contains(byExpiry), "\(sql) should write sessions_by_expiry; written roots \(written)")
                }
            }
        }
    }
}
