import ArgumentParser
import Foundation
import SessionStore

struct TopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "A live view of sessions by state, running executions and the last events, refreshed each second.",
        discussion: """
            Press Ctrl-C to leave. With --once, prints one frame and exits. Into a pipe or a file (stdout \
            not a terminal) the frames follow one another, a blank line apart, without screen escapes. With \
            --json, prints one snapshot and exits: {"path", "at", "serving", "instances", "sessions", \
            "opened", "ended", "refusals", "runningExecutions", "executionTransitions", "sweeperLagMs", \
            "sweeperPassMs", "events"} (as status and metrics --json print them; the last --events events, \
            oldest first, as events --json prints them).
            """)

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
        // Screen escapes only for a terminal: a pipe or a file gets plain frames.
        let terminal = isatty(STDOUT_FILENO) == 1
        try await withStoreUntilStopped(global) { store in
            if global.json {
                try global.output.printJSON(try await snapshot(store))
                return
            }
            repeat {
                let frame = try await render(store)
                if once {
                    Output.printText(frame)
                    return
                }
                if terminal {
                    // Home the cursor and clear the screen, then draw the frame in one write.
                    FileHandle.standardOutput.write(Data(("\u{1B}[H\u{1B}[2J" + TerminalText.escaped(frame, keepingNewlines: true)).utf8))
                } else {
                    Output.printText(frame + "\n")
                }
                try await Task.sleep(for: .milliseconds(milliseconds))
            } while !Task.isCancelled
        }
    }

    /// What `top --json` prints: the figures of a frame.
    private func snapshot(_ store: SessionStore) async throws -> TopSnapshot {
        let metrics = try await store.metricsSnapshot()
        return TopSnapshot(
            path: store.path, at: Timestamp(milliseconds: store.configuration.clock.now()),
            serving: try await ServingSummary.read(store, snapshot: metrics), metrics: metrics,
            events: try await recentEvents(store).map(EventJSON.init))
    }

    /// The last `--events` events, oldest first.
    private func recentEvents(_ store: SessionStore) async throws -> [StoreEvent] {
        guard events > 0 else { return [] }
        let latest = try await store.latestEventSeq()
        return try await store.listEvents(after: max(0, latest - Int64(events)), limit: events)
    }

    private func render(_ store: SessionStore) async throws -> String {
        let snapshot = try await store.metricsSnapshot()
        let recent = try await recentEvents(store)
        var text = "sessionctl top — \(store.path) — \(Timestamp(milliseconds: store.configuration.clock.now()).iso8601)\n"
        let serving = try await ServingSummary.read(store, snapshot: snapshot)
        text += ([serving.line] + serving.instanceLines).joined(separator: "\n") + "\n\n"

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

/// `top --json`: the serving summary and the metrics snapshot as one flat object, as
/// `status --json` and `metrics --json` print their fields, and the recent events.
private struct TopSnapshot: Encodable {
    let path: String
    let at: Timestamp
    let serving: ServingSummary
    let metrics: MetricsSnapshot
    let events: [EventJSON]

    private enum CodingKeys: String, CodingKey {
        case path, at, serving, instances, events
    }

    func encode(to encoder: any Encoder) throws {
        // The snapshot writes sweeperLagMs, the same figure the serving summary holds.
        try metrics.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(path, forKey: .path)
        try container.encode(at, forKey: .at)
        try container.encode(serving.serving, forKey: .serving)
        try container.encode(serving.instances, forKey: .instances)
        try container.encode(events, forKey: .events)
    }
}
