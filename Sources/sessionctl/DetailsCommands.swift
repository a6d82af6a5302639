import ArgumentParser
import Foundation
import SessionStore

struct DetailsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "details", abstract: "Set or remove a session's details.",
        subcommands: [Set.self, Unset.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Insert or replace details, then print the session.")

        @Argument(help: "The session key.") var key: String
        @Argument(help: ArgumentHelp("Details to set.", valueName: "K=V")) var pairs: [String]
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let details = try keyValuePairs(pairs, option: "details set")
            try await changeSession(global, key: key) { store in
                try await store.updateDetails(key: key, details)
            }
        }
    }

    struct Unset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove details by name, then print the session.")

        @Argument(help: "The session key.") var key: String
        @Argument(help: ArgumentHelp("Detail names to remove.", valueName: "K")) var names: [String]
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await changeSession(global, key: key) { store in
                try await store.removeDetails(key: key, names: names)
            }
        }
    }
}

struct ConfCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conf", abstract: "Change a session's config, the settings its client keeps with it (not the store's options).",
        subcommands: [Set.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set config values; each change is recorded as an event. Prints the session.")

        @Argument(help: "The session key.") var key: String
        @Argument(help: ArgumentHelp("Values to set.", valueName: "K=V")) var pairs: [String]
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let config = try keyValuePairs(pairs, option: "conf set")
            try await changeSession(global, key: key) { store in
                try await store.setConfig(key: key, config)
            }
        }
    }
}

struct IdentifierCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identifier", abstract: "Replace a session's identifier, then print the session.")

    @Argument(help: "The session key.") var key: String
    @Argument(help: "The new identifier.") var value: String
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await changeSession(global, key: key) { store in
            try await store.updateIdentifier(key: key, value)
        }
    }
}

struct LinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "link", abstract: "Link CHILD under PARENT; a link that would make a cycle is refused.")

    @Argument(help: "The parent session's key.") var parent: String
    @Argument(help: "The child session's key.") var child: String
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await changeSession(global, key: parent) { store in
            try await store.addAssociate(parentKey: parent, childKey: child)
        }
    }
}

struct TreeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tree", abstract: "Print a session and its descendants.",
        discussion: """
            Ended descendants are printed with their state: a link outlives the sessions it joins until the \
            tombstone is pruned (tombstone-retention). Each session is printed once; one reached again through \
            another parent prints as "KEY  (shown above)". The tree stops at max-tree-depth links from KEY and \
            at max-tree-nodes sessions; a cut-off tree says so on stderr ("truncated": true with --json).
            """)

    @Argument(help: "The key of the session at the root.") var key: String
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let tree = try await withStore(global) { store in store.redaction.tree(try await store.sessionTree(key: key)) }
        try global.output.printTree(tree)
    }
}

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Print the event log, oldest first, or its last events (--tail).",
        discussion: """
            One run prints at most 10000 events. To read further, run again with --since set to the \
            last sequence number printed (the SEQ column, or "seq" with --json); when events were left \
            out, the text output ends with a line on stderr saying how many, and for a page cut by \
            --limit the --since that reads on. --tail N prints the last N events, oldest of them first \
            (with --follow, then the new ones). With --json: one array of events \
            ({"seq","at","kind","sessionKey","userId","dataSource","operationId","payload"}, absent fields \
            null, the payload's numeric fields as numbers); with --follow, one event object a line (JSON Lines).
            """)

    @Option(help: "Only events after this sequence number (the last one of the previous page).") var since: Int64 = 0
    @Option(name: .customLong("session-key"), help: ArgumentHelp("Only events of this session.", valueName: "KEY"))
    var sessionKey: String?
    @Option(name: .customLong("session"), help: ArgumentHelp("The older name of --session-key.", visibility: .hidden))
    var sessionKeyAlias: String?
    @Option(help: "Only events of this kind, e.g. session.ended.") var kind: String?
    @Option(parsing: .unconditional, help: "At most this many events, 1 to 10000 (default: 100).") var limit: Int?
    @Option(parsing: .unconditional, help: ArgumentHelp("Only the last N events, 1 to 10000, oldest of them first.", valueName: "N"))
    var tail: Int?
    @Flag(help: "Keep printing new events as they are committed, one a line, until interrupted.") var follow = false
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if sessionKey != nil && sessionKeyAlias != nil { throw ValidationError("give --session-key once") }
        if limit != nil && tail != nil { throw ValidationError("give --limit or --tail, not both") }
        if let tail, !(1...10_000).contains(tail) { throw ValidationError("--tail takes 1 to 10000, not \(tail)") }
    }

    func run() async throws {
        let filter = EventFilter(sessionKey: sessionKey ?? sessionKeyAlias, kind: kind.map(EventKind.init(rawValue:)))
        if follow {
            try await withStoreUntilStopped(global) { store in
                var since = self.since
                if let tail {
                    let last = try await store.listLastEvents(after: since, limit: tail, filter: filter)
                    try last.forEach(global.output.printEventLine)
                    since = last.last?.seq ?? since
                }
                for try await event in store.events(from: since, kinds: filter.kind.map { [$0] }) {
                    if let session = filter.sessionKey, event.sessionKey != session.lowercased() { continue }
                    if let kind = filter.kind, event.kind != kind { continue }
                    try global.output.printEventLine(event)
                }
            }
            return
        }
        let (events, omitted) = try await withStore(global) { store in
            try await EventsPage.read(store, since: since, limit: limit, tail: tail, filter: filter, counting: !global.json)
        }
        try global.output.printEvents(events)
        omitted.map(ListingNote.print)
    }
}

struct OptionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "options", abstract: "Print every store option with its current value and default.",
        discussion: """
            Store options configure the store a command opens: set one for a command with --set NAME=VALUE, \
            or several from a JSON file with --options-file FILE. They are not a session's config (`conf`).
            """)

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try Self.printOptions(global)
    }

    static func printOptions(_ global: GlobalOptions) throws {
        let current = try global.makeConfiguration()
        let defaults = SessionStoreConfiguration()
        let rows = SessionStoreConfiguration.options.map { option in
            OptionRow(
                name: option.name, value: option.value(in: current), defaultValue: option.value(in: defaults),
                summary: option.summary)
        }
        if global.json {
            try global.output.printJSON(rows)
        } else {
            global.output.printTable(["OPTION", "VALUE", "DEFAULT", "MEANING"], rows.map { [$0.name, $0.value, $0.defaultValue, $0.summary] })
        }
    }

    /// `config`, the older name of `options`: still accepted, not listed.
    struct Alias: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "config", abstract: OptionsCommand.configuration.abstract, shouldDisplay: false)

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try OptionsCommand.printOptions(global)
        }
    }

    private struct OptionRow: Encodable {
        let name: String
        let value: String
        let defaultValue: String
        let summary: String

        enum CodingKeys: String, CodingKey {
            case name, value, summary
            case defaultValue = "default"
        }
    }
}

/// Runs a change on session `key`, then prints the session as it stands after it.
private func changeSession(
    _ global: GlobalOptions, key: String, _ change: (SessionStore) async throws -> Void
) async throws {
    let session = try await withStore(global) { store in
        try await change(store)
        // Pruned between the change and the read: an error rather than no output.
        return try await store.session(key: key).orNotFound(.sessionNotFound, "no session with key \(key)")
    }
    try global.output.printSession(session)
}
