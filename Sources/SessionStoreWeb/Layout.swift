import SessionStoreCore

extension SessionStoreWebView {
    /// The page around `body`: the header with the navigation and the live badge, the
    /// stylesheet and the script. `stream` is the SSE address the page follows, if any.
    func layout(title: String, here: String, stream: String?, body: HTML) -> HTML {
        let base = configuration.basePath
        let links: [(path: String, label: String)] = [("/", "Overview"), ("/sessions", "Sessions"), ("/events", "Events")]
        let navigation = links.map { link in
            link.path == here
                ? HTML("<a class=\"here\" href=\"\(base + link.path)\">\(link.label)</a>")
                : HTML("<a href=\"\(base + link.path)\">\(link.label)</a>")
        }
        let streamAttribute = stream.map { HTML(" data-stream=\"\(base + $0)\"") } ?? ""
        let badge: HTML = stream == nil ? "" : "<span id=\"live-status\" class=\"live\">static</span>"
        var principal = view.principal.map { HTML("<span class=\"muted\">as \($0)</span>") } ?? ""
        if configuration.authentication != nil, view.principal != nil {
            principal += HTML("<form class=\"logout\" method=\"post\" action=\"\(base)/logout\"><button type=\"submit\">Log out</button></form>")
        }
        return HTML(
            """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title) · SessionStore</title>
            <link rel="stylesheet" href="\(base)/assets/web.css">
            <script src="\(base)/assets/live.js" defer></script>
            </head><body data-base="\(base)"\(streamAttribute)>
            <header><span class="brand">SessionStore</span><nav>\(navigation)</nav>\(principal)\(badge)</header>
            <main>
            \(body)
            </main></body></html>
            """)
    }

    /// A link to session `key`.
    func sessionLink(_ key: String) -> HTML {
        HTML("<a class=\"key\" href=\"\(configuration.basePath)/sessions/\(HTML.queryComponent(key))\">\(key)</a>")
    }

    /// A state as a badge.
    func stateBadge(_ state: String, id: String? = nil, key: String? = nil) -> HTML {
        let attributes = id.map { HTML(" id=\"\($0)\" data-key=\"\(key ?? "")\"") } ?? ""
        return HTML("<span class=\"state \(state)\"\(attributes)>\(state)</span>")
    }

    /// A duration as `1h 02m`, `3m 04s`, `5.2s` or `120ms`.
    static func text(_ duration: Duration) -> String {
        let milliseconds = Int64(duration.milliseconds)
        if milliseconds < 1_000 { return "\(milliseconds)ms" }
        let seconds = milliseconds / 1_000
        if seconds < 60 { return "\(seconds).\(milliseconds % 1_000 / 100)s" }
        if seconds < 3_600 { return "\(seconds / 60)m \(pad(seconds % 60))s" }
        return "\(seconds / 3_600)h \(pad(seconds % 3_600 / 60))m"
    }

    private static func pad(_ value: Int64) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }

    /// The events table: its rows in order, and the body the live script appends to.
    func eventsTable(_ events: [StoreEvent], emptyText: String) -> HTML {
        let rows = events.map { event in
            HTML(
                """
                <tr><td class="num">\(event.seq)</td><td>\(event.at.iso8601)</td><td>\(event.kind.rawValue)</td>\
                <td>\(event.sessionKey.map(sessionLink) ?? "—")</td><td>\(event.userId, default: "—")</td>\
                <td>\(event.operationId, default: "—")</td><td><pre class="payload">\(Self.payloadText(event.payload))</pre></td></tr>
                """)
        }
        let empty: HTML = events.isEmpty ? HTML("<tr id=\"events-empty\"><td colspan=\"7\" class=\"muted\">\(emptyText)</td></tr>") : ""
        return HTML(
            """
            <table><thead><tr><th class="num">Seq</th><th>At</th><th>Kind</th><th>Session</th><th>User</th>\
            <th>Operation</th><th>Payload</th></tr></thead>
            <tbody id="event-rows">\(empty)\(rows)</tbody></table>
            """)
    }

    /// A payload as `{"name":"value",...}`, names sorted.
    static func payloadText(_ payload: [String: String]) -> String {
        let pairs = payload.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }
        return "{" + pairs.joined(separator: ",") + "}"
    }

    private static func jsonString(_ text: String) -> String {
        var quoted = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\r": quoted += "\\r"
            case "\t": quoted += "\\t"
            default:
                if scalar.value < 0x20 {
                    quoted += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
                } else {
                    quoted.unicodeScalars.append(scalar)
                }
            }
        }
        return quoted + "\""
    }
}
