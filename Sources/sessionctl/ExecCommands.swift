import ArgumentParser
import Foundation
import SessionStore

struct ExecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec", abstract: "Create and drive executions inside sessions.",
        subcommands: [Create.self, SetStatus.self, Attach.self, Detach.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a pending, attached execution and print it.")

        @Argument(help: "The session key.") var key: String
        @Option(name: .customLong("operation-id"), help: "A UUID; generated when absent.") var operationId: String?
        @Option(name: .customLong("tag"), help: "A tag (repeatable).") var tags: [String] = []
        @Option var statement: String?
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
                    reattachable: reattachable, timeout: limit)
            }
            try global.output.printExecution(execution)
        }
    }

    struct SetStatus: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set", abstract: "Move an execution to STATUS: started, analyzed, ready, finished, failed, canceled or closed.")

        @Argument var key: String
        @Argument(help: "The operation id.") var operationId: String
        @Argument var status: String
        @Option(help: "The failure's message, with failed.") var error: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let target: ExecutionStatus
            switch status {
            case "ready": target = .readyForExecution
            case "timed-out": target = .timedOut
            default:
                guard let parsed = ExecutionStatus(rawValue: status) else {
                    throw ValidationError(
                        "STATUS is one of started, analyzed, ready, finished, failed, canceled, closed; not \(status.debugDescription)")
                }
                target = parsed
            }
            let execution = try await withStore(global) {
                try await $0.setExecutionStatus(key: key, operationId: operationId, to: target, error: error)
            }
            try global.output.printExecution(execution)
        }
    }

    struct Attach: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reattach a client to an execution.")

        @Argument var key: String
        @Argument var operationId: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let execution = try await withStore(global) { try await $0.attachExecution(key: key, operationId: operationId) }
            try global.output.printExecution(execution)
        }
    }

    struct Detach: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Detach the client; past the detached timeout the execution is abandoned.")

        @Argument var key: String
        @Argument var operationId: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let execution = try await withStore(global) { try await $0.detachExecution(key: key, operationId: operationId) }
            try global.output.printExecution(execution)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a session's executions, or across sessions the running (--active) or abandoned (--abandoned) ones.")

        @Argument(help: "The session key; all sessions when absent.") var key: String?
        @Flag(help: "Only running executions.") var active = false
        @Flag(help: "Only abandoned executions.") var abandoned = false
        @OptionGroup var global: GlobalOptions

        func validate() throws {
            if active && abandoned { throw ValidationError("give at most one of --active and --abandoned") }
            if key == nil && !active && !abandoned { throw ValidationError("give KEY, --active or --abandoned") }
        }

        func run() async throws {
            let executions = try await withStore(global) { store -> [Execution] in
                if abandoned {
                    return try await store.listAbandonedExecutions().filter { key == nil || $0.sessionKey == key?.lowercased() }
                }
                if active && key == nil {
                    guard case .running(let running) = try await store.listActiveExecutions() else { return [] }
                    return running
                }
                let all = try await store.listExecutions(key: key ?? "")
                return active ? all.filter(\.status.isRunning) : all
            }
            try global.output.printExecutions(executions)
        }
    }
}

struct InterruptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interrupt", abstract: "Cancel running executions of a session; prints the interrupted operation ids.",
        discussion: "--all and --tag also stop the session's matching streaming queries, printed as \"query ID\" (JSON: stoppedQueries). Finished executions are not touched.")

    @Argument var key: String
    @Flag var all = false
    @Option var tag: String?
    @Option(name: .customLong("operation-id")) var operationId: String?
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
            interrupted.operationIds.forEach { print($0) }
            interrupted.queryIds.forEach { print("query \($0)") }
        }
    }
}

extension Output {
    func printExecution(_ execution: Execution) throws {
        try printExecutions([execution], single: true)
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
