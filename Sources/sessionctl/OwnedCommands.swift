import ArgumentParser
import SessionStore

struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query", abstract: "Register, stop, show, remove and list a session's streaming queries.",
        subcommands: [Register.self, Stop.self, Get.self, Remove.self, List.self])

    struct Register: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register an active streaming query.")

        @Argument(help: "The session key.") var key: String
        @Argument(help: "The query id.") var queryId: String
        @Option(name: .customLong("run-id"), help: "The run id (default: the query id).") var runId: String?
        @Option(help: "The query's name.") var name: String?
        @Option(name: .customLong("operation-id"), help: "The execution that started the query.") var operationId: String?
        @Option(name: .customLong("tag"), help: "A tag (repeatable).") var tags: [String] = []
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let query = try await withStore(global) {
                try await $0.registerQuery(
                    key: key, queryId: queryId, runId: runId ?? queryId, name: name, operationId: operationId, tags: tags)
            }
            try global.output.printQueries([query], single: true)
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop a streaming query.")

        @Argument(help: "The session key.") var key: String
        @Argument(help: "The query id.") var queryId: String
        @Option(help: "Why the query stopped.") var reason = "stopped by client"
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let query = try await withStore(global) { try await $0.stopQuery(key: key, queryId: queryId, reason: reason) }
            try global.output.printQueries([query], single: true)
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print one streaming query, active or stopped.")

        @Argument(help: "The session key.") var key: String
        @Argument(help: "The query id.") var queryId: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let query = try await withStore(global) { store in
                try await store.query(key: key, queryId: queryId)
                    .orNotFound(.queryNotFound, "no streaming query \(queryId) in session \(key)")
            }
            try global.output.printQueries([query], single: true)
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Forget a streaming query, stopping it first if it is active; prints it as removed.")

        @Argument(help: "The session key.") var key: String
        @Argument(help: "The query id.") var queryId: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let query = try await withStore(global) { try await $0.removeQuery(key: key, queryId: queryId) }
            try global.output.printQueries([query], single: true)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a session's streaming queries.")

        @Argument(help: "The session key.") var key: String
        @Flag(help: "Only active queries.") var active = false
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let queries = try await withStore(global) { store in
                active ? try await store.listActiveQueries(key: key) : try await store.listQueries(key: key)
            }
            try global.output.printQueries(queries)
        }
    }
}

struct ResourceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resource", abstract: "Add, release and list the resources a session owns.",
        subcommands: [Add.self, Release.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record that the session owns a resource.")

        @Argument(help: "The session key.") var key: String
        @Argument(help: "The resource's kind, e.g. temp-view or artifact.") var kind: String
        @Argument(help: "The resource's name, unique per kind in the session.") var name: String
        @Option(help: "The resource's size in bytes.") var bytes: Int64 = 0
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let resource = try await withStore(global) { try await $0.addResource(key: key, kind: kind, name: name, bytes: bytes) }
            try global.output.printResources([resource], single: true)
        }
    }

    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Release a resource before the session ends.")

        @Argument(help: "The session key.") var key: String
        @Argument(help: "The resource's kind.") var kind: String
        @Argument(help: "The resource's name.") var name: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let resource = try await withStore(global) { try await $0.releaseResource(key: key, kind: kind, name: name) }
            try global.output.printResources([resource], single: true)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the resources a session owns.")

        @Argument(help: "The session key.") var key: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let resources = try await withStore(global) { try await $0.listResources(key: key) }
            try global.output.printResources(resources)
        }
    }
}

extension Output {
    func printQueries(_ queries: [StreamingQuery], single: Bool = false) throws {
        if json {
            if single, let query = queries.first { try printJSON(query) } else { try printJSON(queries) }
            return
        }
        printTable(
            ["QUERY", "RUN", "NAME", "STATE", "TAGS", "REGISTERED", "STOPPED"],
            queries.map {
                [
                    $0.queryId, $0.runId, $0.name ?? "-", $0.state.rawValue, $0.tags.isEmpty ? "-" : $0.tags.joined(separator: ","),
                    $0.registeredAt.iso8601, $0.stoppedAt?.iso8601 ?? "-",
                ]
            })
    }

    func printResources(_ resources: [OwnedResource], single: Bool = false) throws {
        if json {
            if single, let resource = resources.first { try printJSON(resource) } else { try printJSON(resources) }
            return
        }
        printTable(
            ["KIND", "NAME", "SIZE", "CREATED"],
            resources.map { [$0.kind, $0.name, ByteCount.human($0.bytes), $0.createdAt.iso8601] })
    }
}
