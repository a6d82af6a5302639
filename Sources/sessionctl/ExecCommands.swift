import ArgumentParser
import Foundation
import SessionStore

struct ExecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec", abstract: "Create and drive executions inside sessions.",
        subcommands: [Create.self, Get.self, SetStatus.self, Attach.self, Detach.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a pending, attached execution and print it.",
            discussion: """
                A CLI process is a client that leaves: when this command exits, the execution it created detaches \
                (the printed "attached" is true only while the command runs). To reattach, create it with \
                --reattachable and run `sessionctl exec attach KEY OPERATION_ID` within the store's \
                detached-timeout; a detached execution not reattached by then is abandoned.
                """)

        @Argument(help: "The session key.") var key: String
        @Option(name: .customLong("operation-id"), help: "A UUID; generated when absent.") var operationId: String?
        @Option(name: .customLong("tag"), help: "A tag (repeatable).") var tags: [String] = []
        @Option(help: "The statement the execution runs (at most max-payload-bytes).") var statement: String?
        @Option(help: "The client's request, stored as its UTF-8 bytes (at most max-payload-bytes).") var request: String?
        @Flag(help: "Whether a client may reattach after detaching.") var reattachable = false
        @Option(help: "The execution's own timeout, e.g. 30s.") var timeout: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let limit = try timeout.map { text -> Duration in
                guard let milliseconds = DurationText.parse(milliseconds: text), milliseconds > 0 else {
                    throw ValidationError("--timeout takes a positive duration such as 30s; not \(text.debugDescription)")
                }
                return .milliseconds(milliseconds)
            }
            let execution = try await withStore(global) {
                try await $0.createExecution(
                    key: key, operationId: operationId, tags: tags, statement: statement,
                    request: request.map { Data($0.utf8) }, reattachable: reattachable, timeout: limit)
            }
            try global.output.printExecution(execution)
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print one execution with its request: JSON (the request as Base64), or its fields one a line.")

        @Argument(help: "The session key.") var key: String
        @Argument(help: "The operation id.") var operationId: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let execution = try await withStore(global) { store in
                try await store.execution(key: key, operationId: operationId)
                    .orNotFound(.operationNotFound, "no operation \(operationId) in session \(key)")
            }
            try global.output.printExecutionFields(execution)
        }
    }

    struct SetStatus: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Move an execution to STATUS: started, analyzed, readyForExecution, finished, failed, canceled or closed.")

        @Argument(help: "The session key.") var key: String
        @Argument(help: "The operation id.") var operationId: String
        @Argument(help: ArgumentHelp("The status, named as the execution prints it.", valueName: "status")) var status: StatusName
        @Option(help: "The failure's message, with failed.") var error: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let execution = try await withStore(global) {
                try await $0.setExecutionStatus(key: key, operationId: operationId, to: status.status, error: error)
            }
            try global.output.printExecution(execution)
        }
    }

    struct Attach: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reattach a client to an execution.")

        @Argument(help: "The session key.") var key: String
        @Argument(help: "The operation id.") var operationId: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let execution = try await withStore(global) { try await $0.attachExecution(key: key, operationId: operationId) }
            try global.output.printExecution(execution)
        }
    }

    struct Detach: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Detach the client; past the detached timeout the execution is abandoned.")

        @Argument(help: "The session key.") var key: String
        @Argument(help: "The operation id.") var operationId: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let execution = try await withStore(global) { try await $0.detachExecution(key: key, operationId: operationId) }
            try global.output.printExecution(execution)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a session's executions, or across sessions the running (--active) or abandoned (--abandoned) ones.",
            discussion: """
                Across sessions, --active with nothing running says when the last execution ended. With \
                --json every listing prints one object, {"executions": [...], "lastEndedAt": TIME or null}: \
                lastEndedAt is that time when --active across sessions finds nothing running (null if no \
                execution ever ended), and null otherwise.
                """)

        @Argument(help: "The session key; all sessions when absent.") var key: String?
        @Flag(help: "Only running executions.") var active = false
        @Flag(help: "Only abandoned executions.") var abandoned = false
        @OptionGroup var global: GlobalOptions

        func validate() throws {
            if active && abandoned { throw ValidationError("give at most one of --active and --abandoned") }
            if key == nil && !active && !abandoned { throw ValidationError("give KEY, --active or --abandoned") }
        }

        func run() async throws {
            let listed = try await withStore(global) { store -> ActiveExecutions in
                if abandoned {
                    return .running(
                        try await store.listAbandonedExecutions().filter { key == nil || $0.sessionKey == key?.lowercased() })
                }
                if active && key == nil {
                    return try await store.listActiveExecutions()
                }
                let all = try await store.listExecutions(key: key ?? "")
                return .running(active ? all.filter(\.status.isRunning) : all)
            }
            try global.output.printExecutionList(listed)
        }
    }
}

struct InterruptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interrupt", abstract: "Cancel running executions of a session; prints the interrupted operation ids.",
        discussion: "--all and --tag also stop the session's matching streaming queries, printed as \"query ID\" (JSON: stoppedQueries). Finished executions are not touched.")

    @Argument(help: "The session key.") var key: String
    @Flag(help: "Every running execution of the session.") var all = false
    @Option(help: "The running executions with this tag.") var tag: String?
    @Option(name: .customLong("operation-id"), help: "One execution.") var operationId: String?
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard [all, tag != nil, operationId != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --all, --tag and --operation-id")
        }
    }

    func run() async throws {
        let interrupted = try await withStore(global) { store in
            if let tag { return try await store.interrupt(key: key, tag: tag) }
            if let operationId { return try await store.interrupt(key: key, operationId: operationId) }
            return try await store.interruptAll(key: key)
        }
        if global.json {
            try global.output.printJSON(["interrupted": interrupted.operationIds, "stoppedQueries": interrupted.queryIds])
        } else {
            interrupted.operationIds.forEach { Output.printLine($0) }
            interrupted.queryIds.forEach { Output.printLine("query \($0)") }
        }
    }
}

extension Output {
    func printExecution(_ execution: Execution) throws {
        try printExecutions([execution], single: true)
    }

    /// One execution: JSON object, or its fields one a line with the request as text
    /// (Base64 when it is not UTF-8).
    func printExecutionFields(_ execution: Execution) throws {
        if json {
            try printJSON(execution)
            return
        }
        let request = execution.request.map { String(validating: $0, as: UTF8.self) ?? "base64:\($0.base64EncodedString())" }
        let fields: [(String, String)] = [
            ("operation", execution.operationId),
            ("session", execution.sessionKey),
            ("user", execution.userId),
            ("job tag", execution.jobTag),
            ("status", execution.status.rawValue),
            ("attached", execution.attached ? "yes" : "no"),
            ("reattachable", execution.reattachable ? "yes" : "no"),
            ("tags", execution.tags.isEmpty ? "-" : execution.tags.joined(separator: ",")),
            ("statement", execution.statement ?? "-"),
            ("request", request ?? "-"),
            ("timeout", execution.timeout?.description ?? "-"),
            ("created", execution.createdAt.iso8601),
            ("started", execution.startedAt?.iso8601 ?? "-"),
            ("last attached", execution.lastAttachedAt.iso8601),
            ("ended", execution.endedAt?.iso8601 ?? "-"),
            ("closed", execution.closedAt?.iso8601 ?? "-"),
            ("abandoned", execution.abandonedAt?.iso8601 ?? "-"),
            ("error", execution.error ?? "-"),
        ]
        for (name, value) in fields {
            Output.printLine("\((name + ":").padding(toLength: 16, withPad: " ", startingAt: 0))\(value)")
        }
    }

    /// A listing. JSON is always `{"executions": [...], "lastEndedAt": TIME or null}`, so a
    /// reader meets one shape whether or not anything runs; text is a table, or for nothing
    /// running anywhere when the last execution ended.
    func printExecutionList(_ listed: ActiveExecutions) throws {
        let executions: [Execution]
        let lastEndedAt: Timestamp?
        switch listed {
        case .running(let running): (executions, lastEndedAt) = (running, nil)
        case .idleSince(let ended): (executions, lastEndedAt) = ([], ended)
        }
        if json {
            try printJSON(ExecutionList(executions: executions, lastEndedAt: lastEndedAt))
            return
        }
        guard case .idleSince = listed else {
            try printExecutions(executions)
            return
        }
        Output.printLine(lastEndedAt.map { "no running executions; the last one ended at \($0.iso8601)" } ?? "no running executions; none has ended yet")
    }

    func printExecutions(_ executions: [Execution], single: Bool = false) throws {
        if json {
            if single, let execution = executions.first {
                try printJSON(execution)
            } else {
                try printJSON(executions)
            }
            return
        }
        printTable(
            ["OPERATION", "SESSION", "STATUS", "ATTACHED", "TAGS", "CREATED", "ERROR"],
            executions.map {
                [
                    $0.operationId, $0.sessionKey, $0.status.rawValue, $0.attached ? "yes" : "no",
                    $0.tags.isEmpty ? "-" : $0.tags.joined(separator: ","), $0.createdAt.iso8601, $0.error ?? "-",
                ]
            })
    }
}

/// `exec list --json`: the executions, and when the last one ended if nothing runs.
private struct ExecutionList: Encodable {
    let executions: [Execution]
    let lastEndedAt: Timestamp?

    private enum CodingKeys: String, CodingKey { case executions, lastEndedAt }

    /// Both keys always, `lastEndedAt` as null when unset.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(executions, forKey: .executions)
        try container.encode(lastEndedAt, forKey: .lastEndedAt)
    }
}

/// An execution status as `exec set` takes it: its name as every output prints it
/// (`readyForExecution`), or the older shorthands `ready` and `timed-out`.
struct StatusName: ExpressibleByArgument {
    let status: ExecutionStatus

    init?(argument: String) {
        switch argument {
        case "ready": status = .readyForExecution
        case "timed-out": status = .timedOut
        default:
            guard let status = ExecutionStatus(rawValue: argument) else { return nil }
            self.status = status
        }
    }

    /// The statuses a client moves an execution to (the store sets the others itself).
    static var allValueStrings: [String] {
        [ExecutionStatus.started, .analyzed, .readyForExecution, .finished, .failed, .canceled, .closed].map(\.rawValue)
    }
}
