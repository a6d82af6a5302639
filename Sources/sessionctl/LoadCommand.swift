import ArgumentParser
import Foundation
import SessionStore

/// A workload generator. Every change it makes is printed as one JSON line right after
/// its commit, flushed at once, so a test that kills the process knows exactly what was
/// committed. Errors go to stderr as JSON lines.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Generate a workload: open, touch, update, run executions in and close sessions.",
        discussion: """
            Prints one JSON line per committed change with at least "op" (open, touch, details, close, \
            exec-create, exec-status) and "key", plus "operationId" and "status" for executions. About half the \
            sessions are left open and some executions left running, so a killed run leaves work for recovery. \
            On a terminal, without --json, a line on stderr shows the sessions done and the rate.
            """)

    @Option(help: "Sessions to open.") var sessions = 100
    @Option(help: "Executions per session.") var executions = 2
    @Option(help: "Concurrent workers.") var concurrency = 4
    @Option(help: "Seed of the random choices.") var seed: UInt64 = 1
    @Option(help: "Timeout of the opened sessions.") var timeout = "30s"
    @Option(help: "Open every session for this user (default: ten users, user-0 to user-9).") var user: String?
    @Flag(help: "Close no session (by default about half are closed).") var keepOpen = false
    @Flag(
        help: """
            When done, print {"op": "holding"} and keep the store open, its running executions attached, until killed: \
            a process whose work a crash leaves behind.
            """) var hold = false
    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard (0...1_000_000_000).contains(sessions), (0...10_000).contains(executions), (1...256).contains(concurrency) else {
            throw ValidationError("--sessions must be within 0...1000000000, --executions within 0...10000, --concurrency within 1...256")
        }
    }

    func run() async throws {
        let timeout = try parseTimeout(self.timeout)
        let counter = Counter()
        ProgressLine.enable(json: global.json)
        let progress = ProgressLine("load", total: sessions)
        defer { progress.finish() }
        // stderr carries JSON lines: the file's creation, or a failure to open it, is one too.
        var options = global
        options.json = true
        try await withStore(options) { store in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<concurrency {
                    group.addTask {
                        var random = SplitMix64(seed: seed &+ UInt64(worker) &* 0x9E37_79B9_7F4A_7C15)
                        while let index = counter.next(below: sessions) {
                            await runSession(index, store: store, timeout: timeout, random: &random)
                            progress.add()
                        }
                    }
                }
                try await group.waitForAll()
            }
            guard hold else { return }
            emit(["op": "holding"])
            while true {
                try await Task.sleep(for: .seconds(3600))
            }
        }
    }

    private func runSession(_ index: Int, store: SessionStore, timeout: SessionTimeout, random: inout SplitMix64) async {
        var request = OpenSessionRequest(userId: user ?? "user-\(index % 10)")
        request.dataSource = "source-\(index % 3)"
        request.details = ["worker": "\(index)"]
        request.timeout = timeout
        guard let session = await attempt({ try await store.openSession(request) }) else { return }
        let key = session.key
        emit(["op": "open", "key": key, "userId": session.userId, "dataSource": session.dataSource])

        if let live = await attempt({ try await store.touch(key: key) }) {
            emit(["op": "touch", "key": key, "live": live.isLive])
        }
        let value = "v\(random.next() % 1000)"
        if await attempt({ try await store.updateDetails(key: key, ["step": value]) }) != nil {
            emit(["op": "details", "key": key, "name": "step", "value": value])
        }
        for _ in 0..<executions {
            let reattachable = random.next() % 2 == 0
            guard let execution = await attempt({ try await store.createExecution(key: key, reattachable: reattachable) }) else {
                continue
            }
            let operationId = execution.operationId
            emit(["op": "exec-create", "key": key, "operationId": operationId, "status": "pending", "reattachable": reattachable])
            // Some executions stay running: the work a crash leaves behind.
            let path: [ExecutionStatus] = random.next() % 3 == 0 ? [.started] : [.started, .finished, .closed]
            for status in path {
                guard await attempt({ try await store.setExecutionStatus(key: key, operationId: operationId, to: status) }) != nil
                else { break }
                emit(["op": "exec-status", "key": key, "operationId": operationId, "status": status.rawValue])
            }
        }
        if random.next() % 2 == 0, !keepOpen, await attempt({ try await store.closeSession(key: key, reason: "load") }) != nil {
            emit(["op": "close", "key": key])
        }
    }

    /// Runs `body`; a library error is printed to stderr as a JSON line and gives nil.
    private func attempt<T: Sendable>(_ body: () async throws -> T) async -> T? {
        do {
            return try await body()
        } catch let error as SessionStoreError {
            writeLine(["op": "error", "code": error.code.rawValue, "message": error.message], to: .standardError)
        } catch {
            writeLine(["op": "error", "code": "UNKNOWN", "message": "\(error)"], to: .standardError)
        }
        return nil
    }

    private func emit(_ fields: [String: any Sendable]) {
        writeLine(fields, to: .standardOutput)
    }

    private func writeLine(_ fields: [String: any Sendable], to handle: FileHandle) {
        guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]) else { return }
        // One write call per line: lines from concurrent workers never interleave. On
        // stderr the progress line, if any, is cleared first and drawn again below.
        let clear = handle.fileDescriptor == STDERR_FILENO && ProgressLine.isEnabled ? Data("\r\u{1B}[K".utf8) : Data()
        handle.write(clear + data + Data("\n".utf8))
    }
}

/// A small seeded generator, so a run can be repeated.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
