import SessionStoreCore

extension SessionStoreWebView {
    /// The most events a session page shows: its first ones, in order.
    static let sessionEventLimit = 1_000

    /// `/sessions/{key}`: one session's whole story — fields, details, config (redacted),
    /// links, executions, streaming queries, owned resources and events in order.
    func sessionPage(key: String) async throws -> HTML {
        guard let found = try await view.session(key: key) else {
            throw WebError(status: .notFound, message: "No session \(key)")
        }
        let redaction = view.unscopedStore.redaction
        let session = redaction.session(found)
        let tree = redaction.tree(try await view.sessionTree(key: key))
        let statistics = try await view.sessionStatistics(key: key)
        let executions = try await view.listExecutions(key: key)
        let queries = try await view.listQueries(key: key)
        let resources = try await view.listResources(key: key)
        let events = try await view.listEvents(
            after: 0, limit: Self.sessionEventLimit, filter: EventFilter(sessionKey: key), user: view.principal == nil ? nil : session.userId)
        var body = HTML("<h1>Session <span class=\"key\">\(session.key)</span> \(stateBadge(session.state.rawValue, id: "session-state", key: session.key))</h1>")
        body += "<div class=\"grid\">" + fields(session, statistics: statistics) + links(session, tree: tree) + "</div>"
        body += "<div class=\"grid\">"
        body += keyValues("Details", session.details, empty: "No details.", id: "details")
        body += keyValues("Config", session.config, empty: "No config.", id: "config")
        body += "</div>"
        body += executionsTable(executions)
        body += queriesTable(queries)
        body += resourcesTable(resources)
        let more: HTML = events.count == Self.sessionEventLimit ? HTML("<p class=\"muted\">The first \(Self.sessionEventLimit) events.</p>") : ""
        body += HTML("<h2>Events</h2>") + eventsTable(events, emptyText: "No events.") + more
        return layout(title: "Session \(session.key)", here: "", stream: "/events/stream" + HTML.query([("session", key)]), body: body)
    }

    private func fields(_ session: Session, statistics: SessionStatistics) -> HTML {
        let rows: [(String, String?)] = [
            ("User", session.userId), ("Impersonated user", session.impersonatedUser), ("Client session id", session.sessionId),
            ("Data source", session.dataSource), ("Type", session.type), ("Protocol version", "\(session.version)"),
            ("Identifier", session.identifier), ("Client address", session.clientAddress),
            ("UTC offset", "\(session.utcOffsetSeconds) s"), ("Timeout", session.timeout.description),
            ("Created", session.createdAt.iso8601), ("Last access", session.lastAccessAt.iso8601),
            ("Expires", session.expireAt?.iso8601), ("Ended", session.endedAt?.iso8601), ("End reason", session.endReason),
            ("Duration", Self.text(statistics.duration)), ("Statements", "\(statistics.statements)"),
            ("Failures", "\(statistics.failures)"), ("Config changes", "\(statistics.configChanges)"),
        ]
        let items = rows.map { HTML("<dt>\($0.0)</dt><dd>\($0.1, default: "—")</dd>") }
        return HTML("<section><h2>Fields</h2><dl class=\"fields\">\(items)</dl></section>")
    }

    private func keyValues(_ title: String, _ values: [String: String], empty: String, id: String) -> HTML {
        let rows = values.sorted { $0.key < $1.key }.map { HTML("<tr><td><code>\($0.key)</code></td><td>\($0.value)</td></tr>") }
        let body: HTML = rows.isEmpty ? HTML("<tr><td colspan=\"2\" class=\"muted\">\(empty)</td></tr>") : HTML("\(rows)")
        return HTML(
            "<section><h2>\(title)</h2><table id=\"\(id)\"><thead><tr><th>Name</th><th>Value</th></tr></thead><tbody>\(body)</tbody></table></section>"
        )
    }

    /// The parents, then the session's tree of descendants as nested lists.
    private func links(_ session: Session, tree: SessionTree) -> HTML {
        let parents = session.parents.map { HTML("<li>\(sessionLink($0))</li>") }
        func branch(_ key: String, depth: Int) -> HTML {
            let children = tree.children(of: key)
            guard !children.isEmpty, depth < 32 else { return "" }
            let items = children.map { child in
                HTML("<li>\(sessionLink(child.session.key)) \(stateBadge(child.session.state.rawValue))\(branch(child.session.key, depth: depth + 1))</li>")
            }
            return HTML("<ul class=\"tree\">\(items)</ul>")
        }
        let parentList: HTML = parents.isEmpty ? "<p class=\"muted\">No parents.</p>" : HTML("<ul class=\"tree\">\(parents)</ul>")
        let childTree = branch(session.key, depth: 0)
        let children: HTML = childTree.text.isEmpty ? "<p class=\"muted\">No children.</p>" : childTree
        let truncated: HTML = tree.truncated ? "<p class=\"muted\">The tree is cut at its size limit.</p>" : ""
        return HTML("<section><h2>Parents</h2>\(parentList)<h2>Children</h2>\(children)\(truncated)</section>")
    }

    private func executionsTable(_ executions: [Execution]) -> HTML {
        let rows = executions.map { execution in
            let end = execution.endedAt ?? execution.closedAt
            let duration = end.map { Self.text(.milliseconds($0.milliseconds - execution.createdAt.milliseconds)) } ?? "running"
            return HTML(
                """
                <tr><td><code>\(execution.operationId)</code></td><td>\(stateBadge(execution.status.rawValue))</td>\
                <td>\(execution.tags.joined(separator: ", "))</td><td>\(execution.attached ? "attached" : "detached")</td>\
                <td>\(duration)</td><td>\(execution.statement, default: "—")</td><td>\(execution.error, default: "")</td></tr>
                """)
        }
        return section(
            "Executions",
            header: "<th>Operation</th><th>Status</th><th>Tags</th><th>Client</th><th>Duration</th><th>Statement</th><th>Error</th>",
            rows: rows, columns: 7, empty: "No executions.")
    }

    private func queriesTable(_ queries: [StreamingQuery]) -> HTML {
        let rows = queries.map { query in
            HTML(
                """
                <tr><td><code>\(query.queryId)</code></td><td>\(query.name, default: "—")</td><td>\(stateBadge(query.state.rawValue))</td>\
                <td>\(query.registeredAt.iso8601)</td><td>\(query.stopReason, default: "—")</td></tr>
                """)
        }
        return section(
            "Streaming queries", header: "<th>Query</th><th>Name</th><th>State</th><th>Registered</th><th>Stop reason</th>",
            rows: rows, columns: 5, empty: "No streaming queries.")
    }

    private func resourcesTable(_ resources: [OwnedResource]) -> HTML {
        let rows = resources.map { resource in
            HTML(
                """
                <tr><td>\(resource.kind)</td><td><code>\(resource.name)</code></td><td class="num">\(resource.bytes)</td>\
                <td>\(resource.createdAt.iso8601)</td></tr>
                """)
        }
        return section(
            "Owned resources", header: "<th>Kind</th><th>Name</th><th class=\"num\">Bytes</th><th>Created</th>", rows: rows,
            columns: 4, empty: "No owned resources.")
    }
}
