import ArgumentParser
import Foundation
import SessionStore

struct TopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "A live view of sessions by state, running executions and the last events, refreshed each second.",
        discussion: "Press Ctrl-C to leave. With --once, prints one frame and exits.")

    @Option(help: "Time between refreshes.") var interval = "1s"
    @Flag(help: "Print one frame and exit.") var once = false
    @Option(help: "How many recent events to show, 0 to 10000.") var events = 10
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        guard let milliseconds = DurationText.parse(milliseconds: interval), milliseconds > 0 else {
            throw ValidationError("--interval takes a positive duration such as 1s")
        }
        guard (0...10_000).contains(events) else {
            throw ValidationError("--events takes a count from 0 to 10000, not \(events)")
        }
        try await withStoreUntilStopped(global) { store in
            repeat {
                let frame = try await render(store)
                if once {
                    Output.printText(frame)
                    return
                }
                // Home the cursor and clear the screen, then draw the frame in one write.
                FileHandle.standardOutput.write(Data(("\u{1B}[H\u{1B}[2J" + TerminalText.escaped(frame, keepingNewlines: true)).utf8))
                try await Task.sleep(for: .milliseconds(milliseconds))
            } while !Task.isCancelled
        }
    }

    private func render(_ store: SessionStore) async throws -> String {
        let snapshot = try await store.metricsSnapshot()
        let latest = try await store.latestEventSeq()
        let recent = events == 0 ? [] : try await store.listEvents(after: max(0, latest - Int64(events)), limit: events)
        var text = "sessionctl top — \(store.path) — \(Timestamp(milliseconds: store.configuration.clock.now()).iso8601)\n"
        text += try await ServingSummary.read(store, snapshot: snapshot).line + "\n\n"

        text += "SESSIONS\n"
        let byState = Dictionary(grouping: snapshot.sessions, by: \.state).mapValues { $0.reduce(0) { $0 + $1.count } }
        text += "  idle \(byState[.idle] ?? 0)   active \(byState[.active] ?? 0)   closing \(byState[.closing] ?? 0)"
        text += "   opened \(snapshot.opened)   ended " + snapshot.ended.map { "\($0.label) \($0.total)" }.joined(separator: ", ")
        text += "\n"
        for count in snapshot.sessions.sorted(by: { ($0.dataSource, $0.state.rawValue) < ($1.dataSource, $1.state.rawValue) })
        where count.count > 0 {
            text += "  \(count.dataSource.padding(toLength: 24, withPad: " ", startingAt: 0)) \(count.state.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(count.count)\n"
        }
        text += "\nEXECUTIONS RUNNING\n  "
        text += snapshot.runningExecutions.isEmpty
            ? "none" : snapshot.runningExecutions.map { "\($0.label) \($0.total)" }.joined(separator: "   ")
        text += "\n\nSWEEPER\n  "
        text += snapshot.sweeperLag.map { lag in
            let lagMs = lag.wholeMilliseconds
            let passMs = (snapshot.sweeperPassDuration ?? .zero).wholeMilliseconds
            return "last pass \(Double(lagMs) / 1000) s ago, took \(passMs) ms"
        } ?? "no pass yet"
        text += "\n\nLAST EVENTS\n"
        for event in recent.reversed() {
            text += "  \(event.seq)  \(event.at.iso8601)  \(event.kind.rawValue.padding(toLength: 26, withPad: " ", startingAt: 0))  \(event.sessionKey ?? "-")\n"
        }
        return text
    }
}
