import SessionStore

extension Output {
    /// One session: JSON object, or its fields one a line.
    func printSession(_ session: Session) throws {
        if json {
            try printJSON(session)
            return
        }
        let fields: [(String, String)] = [
            ("key", session.key),
            ("user", session.userId),
            ("session id", session.sessionId ?? "-"),
            ("data source", session.dataSource),
            ("type", "\(session.type) v\(session.version)"),
            ("identifier", session.identifier ?? "-"),
            ("state", session.state.rawValue),
            ("timeout", session.timeout.description),
            ("created", session.createdAt.iso8601),
            ("last access", session.lastAccessAt.iso8601),
            ("expires", session.expireAt?.iso8601 ?? "-"),
            ("ended", session.endedAt.map { "\($0.iso8601) (\(session.endReason ?? ""))" } ?? "-"),
            ("client address", session.clientAddress ?? "-"),
            ("impersonating", session.impersonatedUser ?? "-"),
            ("details", Self.pairs(session.details)),
            ("config", Self.pairs(session.config)),
            ("parents", session.parents.isEmpty ? "-" : session.parents.joined(separator: ", ")),
            ("children", session.children.isEmpty ? "-" : session.children.joined(separator: ", ")),
        ]
        for (name, value) in fields {
            printField(name, value)
        }
    }

    /// One `name: value` line, aligned with ``printSession(_:)``'s.
    func printField(_ name: String, _ value: String) {
        Output.printLine("\((name + ":").padding(toLength: 16, withPad: " ", startingAt: 0))\(value)")
    }

    /// Sessions: JSON array, or a table.
    func printSessions(_ sessions: [Session]) throws {
        if json {
            try printJSON(sessions)
            return
        }
        printTable(
            ["KEY", "USER", "SESSION ID", "DATA SOURCE", "STATE", "EXPIRES"],
            sessions.map {
                [$0.key, $0.userId, $0.sessionId ?? "-", $0.dataSource, $0.state.rawValue, $0.expireAt?.iso8601 ?? "-"]
            })
    }

    /// Events: a JSON array of ``EventJSON``, or a table.
    func printEvents(_ events: [StoreEvent]) throws {
        if json {
            try printJSON(events.map(EventJSON.init))
            return
        }
        printTable(
            ["SEQ", "AT", "KIND", "SESSION", "DETAILS"],
            events.map {
                ["\($0.seq)", $0.at.iso8601, $0.kind.rawValue, $0.sessionKey ?? "-", Self.pairs($0.payload)]
            })
    }

    /// One event as a command that follows prints it: a JSON line (``EventJSON``), or
    /// `SEQ  AT  KIND  SESSION  DETAILS`.
    func printEventLine(_ event: StoreEvent) throws {
        if json {
            try printJSON(EventJSON(event))
        } else {
            Output.printLine("\(event.seq)  \(event.at.iso8601)  \(event.kind)  \(event.sessionKey ?? "-")  \(Output.pairs(event.payload))")
        }
    }

    static func pairs(_ pairs: [String: String]) -> String {
        pairs.isEmpty ? "-" : pairs.keys.sorted().map { "\($0)=\(pairs[$0] ?? "")" }.joined(separator: " ")
    }
}
