import ArgumentParser
import SessionStore

struct OpenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "open", abstract: "Open a session and print it.",
        discussion: "Limits, the authenticator and the impersonation policy apply; a refusal exits 1 and is recorded as an event.")

    @Option(help: "The owner.") var user: String
    @Option(name: .customLong("session-id"), help: "The client's own id for the session.") var sessionId: String?
    @Option(help: "Timeout: 30s, 5m, 2h, 7d or never (default: the store's default-timeout).") var timeout: String?
    @Option(name: .customLong("data-source"), help: "The data source the session belongs to.") var dataSource = "default"
    @Option(help: "The session's type, as the client names it.") var type = "Session"
    @Option(help: "The version of the session's type.") var version: Int64 = 1
    @Option(help: "The session's identifier; `sessionctl identifier` changes it.") var identifier: String?
    @Option(name: .customLong("utc-offset"), parsing: .unconditional, help: "Offset from UTC in seconds; negative west of UTC.")
    var utcOffset: Int64 = 0
    @Option(name: .customLong("detail"), help: ArgumentHelp("A detail (repeatable).", valueName: "K=V")) var details: [String] = []
    @Option(name: .customLong("conf"), help: ArgumentHelp("A value of the session's config (repeatable).", valueName: "K=V")) var config: [String] = []
    @Option(name: .customLong("associate"), help: ArgumentHelp("Key of a live session to link as a child (repeatable).", valueName: "KEY")) var associates: [String] = []
    @Option(name: .customLong("client-address"), help: "The client's network address, as limits per address count it.") var clientAddress: String?
    @Option(help: "Act as this user (the impersonation policy decides).") var impersonate: String?
    @Flag(
        help: """
            Open a new session even if this session id was closed; return it if it is live. Prints whether the \
            session is new ("opened:") and the request's fields the existing one did not take ("not applied:"), \
            as --json always does ("created", "ignoredFields").
            """)
    var reconnect = false
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        var request = OpenSessionRequest(userId: user, sessionId: sessionId)
        request.dataSource = dataSource
        request.type = type
        request.version = version
        request.identifier = identifier
        request.utcOffsetSeconds = utcOffset
        request.details = try keyValuePairs(details, option: "--detail")
        request.config = try keyValuePairs(config, option: "--conf")
        request.associates = associates
        request.clientAddress = clientAddress
        request.impersonatedUser = impersonate
        request.reconnect = reconnect
        if let timeout {
            request.timeout = try parseTimeout(timeout)
        }
        let opened = try await withStore(global) { try await $0.openSessionReportingOutcome(request) }
        // JSON has one shape with or without --reconnect: the session, "created" and "ignoredFields".
        if global.json {
            try global.output.printJSON(opened)
            return
        }
        try global.output.printSession(opened.session)
        guard reconnect else { return }
        global.output.printField("opened", opened.created ? "new session" : "existing session")
        global.output.printField("not applied", opened.ignoredFields.isEmpty ? "-" : opened.ignoredFields.joined(separator: ", "))
    }
}

/// `never`, or a duration such as `30s`.
func parseTimeout(_ text: String) throws -> SessionTimeout {
    if text == "never" { return .never }
    guard let milliseconds = DurationText.parse(milliseconds: text) else {
        throw ValidationError("--timeout takes a duration such as 30s, 5m or 2h, or never; not \(text.debugDescription)")
    }
    return .after(.milliseconds(milliseconds))
}

struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Print one session, by key or by user and session id.")

    @Argument(help: "The session key.") var key: String?
    @Option(help: "The owner, with --session-id.") var user: String?
    @Option(name: .customLong("session-id"), help: "The client's own id for the session, with --user.") var sessionId: String?
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard (key != nil) != (user != nil && sessionId != nil) else {
            throw ValidationError("give either KEY or both --user and --session-id")
        }
    }

    func run() async throws {
        let session = try await withStore(global) { store -> Session in
            let found: Session?
            if let key {
                found = try await store.session(key: key)
            } else {
                found = try await store.isolatedSession(userId: user ?? "", sessionId: sessionId ?? "")
            }
            return try found.orNotFound(.sessionNotFound, "no such session")
        }
        try global.output.printSession(session)
    }
}

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List sessions, newest first (or as --sort says).",
        discussion: """
            Each order is read from an index, so a page costs what it shows. When --limit cuts the \
            listing, a line on stderr says how many sessions were not shown (text output only).
            """)

    @Option(help: "live, ended, all, or one state (idle, active, closing, closed, expired, failed).") var state = "live"
    @Option(help: "Only this user's sessions.") var user: String?
    @Option(name: .customLong("data-source"), help: "Only the sessions of this data source.") var dataSource: String?
    @Option(
        help: ArgumentHelp(
            """
            newest (the default), created (oldest first), expires (soonest expiry first, then the sessions \
            without one in creation order) or user (by user id, each user's oldest first).
            """, valueName: "ORDER"))
    var sort: ListSort = .newest
    @Option(parsing: .unconditional, help: "At most this many sessions, 1 to 10000.") var limit = 100
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        _ = try parseStates(state)
    }

    func run() async throws {
        var filter = SessionFilter(states: try parseStates(state), userId: user, dataSource: dataSource, limit: limit)
        filter.order = sort.order
        let (sessions, omitted) = try await withStore(global) { store in
            try await listSessions(store, filter, counting: !global.json, hint: "--limit \(limit)")
        }
        try global.output.printSessions(sessions)
        omitted.map(ListingNote.print)
    }
}

struct CurrentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "current", abstract: "List the live sessions, of every data source or of one (never ended or expired ones).",
        discussion: "A listed session's parents and children may be ended sessions: a link outlives the sessions it joins until the tombstone is pruned (tombstone-retention).")

    @Option(name: .customLong("data-source"), help: "Only the sessions of this data source (default: every data source).")
    var dataSource: String?
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let filter = SessionFilter(states: .live, dataSource: dataSource, limit: Self.limit)
        let (sessions, omitted) = try await withStore(global) { store in
            try await listSessions(store, filter, counting: !global.json, hint: "current prints at most \(Self.limit); narrow with --data-source")
        }
        try global.output.printSessions(sessions)
        omitted.map(ListingNote.print)
    }

    /// The most sessions one run prints (the most one listing returns).
    static let limit = 10_000
}

struct TouchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "touch", abstract: "Record an access; prints live, unknown, closed or expired.",
        discussion: """
            Writes nothing when the expiry bucket does not move, nor for a session that is not live. \
            Prints live, unknown (no such session), closed (closing, or ended other than by expiry) or \
            expired (its expiry passed, whether or not a sweeper has ended it yet); with --json \
            {"key":...,"live":...,"result":...}. Exits 0 only for live; otherwise it also prints the \
            error line (INVALID_HANDLE.SESSION_NOT_FOUND, .SESSION_CLOSED or .SESSION_EXPIRED) and exits 1. \
            Several keys (up to 1000) are touched in one storage round, as ZooKeeper's followers send \
            pings: one line each, "KEY RESULT" (with --json one object a line), in the order given, \
            and exit 0 only when every one is live.
            """)

    @Argument(help: "The session key, or several (up to 1000) to touch in one round.") var keys: [String]
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard (1...SessionStore.maxTouchBatch).contains(keys.count) else {
            throw ValidationError("touch takes 1 to \(SessionStore.maxTouchBatch) keys, not \(keys.count)")
        }
    }

    func run() async throws {
        guard keys.count > 1 else { return try await touchOne(keys[0]) }
        let answers = try await withStore(global) { try await $0.touch(keys: keys) }
        var failures: [SessionStoreError] = []
        for answer in answers {
            guard let result = answer.result else {
                if let error = answer.error { failures.append(error) }
                if global.json {
                    try global.output.printJSON(InvalidKey(key: answer.key))
                } else {
                    Output.printLine("\(TerminalText.escaped(answer.key)) invalid")
                }
                continue
            }
            if global.json {
                try global.output.printJSON(Touched(key: answer.key, live: result.isLive, result: result))
            } else {
                Output.printLine("\(answer.key) \(result.rawValue)")
            }
            if let failure = Self.failure(result, key: answer.key) { failures.append(failure) }
        }
        guard !failures.isEmpty else { return }
        for failure in failures { global.output.printError(code: failure.code.rawValue, message: failure.message) }
        throw ExitCode(1)
    }

    private func touchOne(_ key: String) async throws {
        let result = try await withStore(global) { try await $0.touch(key: key) }
        if global.json {
            try global.output.printJSON(Touched(key: key, live: result.isLive, result: result))
        } else {
            Output.printLine(result.rawValue)
        }
        // A script touching a session to keep it alive must learn that it is not.
        guard let failure = Self.failure(result, key: key) else { return }
        global.output.printError(code: failure.code.rawValue, message: failure.message)
        throw ExitCode(1)
    }

    /// The error of a touch that found no live session; `nil` for a live one.
    private static func failure(_ result: TouchResult, key: String) -> SessionStoreError? {
        switch result {
        case .live: nil
        case .unknown: .sessionNotFound(key)
        case .closed: SessionStoreError(code: .sessionClosed, message: "session \(key) is closing or ended")
        case .expired: SessionStoreError(code: .sessionExpired, message: "session \(key) expired; open a new one")
        }
    }

    /// A malformed key of a batch, in the shape of the others' lines.
    private struct InvalidKey: Encodable {
        let key: String
        let live = false
        let result = "invalid"
    }

    private struct Touched: Encodable {
        let key: String
        let live: Bool
        let result: TouchResult
    }
}

struct CloseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "close", abstract: "End a session; closing an ended session changes nothing.",
        discussion: """
            Prints the session and whether this call closed it ("outcome: closed by this call") or it \
            had ended already ("outcome: already ended"); --json adds "closedByThisCall". Exits 0 either way.
            """)

    @Argument(help: "The session key.") var key: String
    @Option(help: "Why the session ended, as its end reason and event say.") var reason = "closed by client"
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let closing = try await withStore(global) { try await $0.closeSession(key: key, reason: reason) }
        if global.json {
            try global.output.printJSON(closing)
        } else {
            try global.output.printSession(closing.session)
            global.output.printField("outcome", closing.closedByThisCall ? "closed by this call" : "already ended")
        }
    }
}
