import SessionStoreCore

extension SessionStoreWebView {
    /// The states a sessions page can be filtered by, as its `state` parameter names them.
    static let stateChoices: [(name: String, states: SessionFilter.States)] = [
        ("live", .live), ("ended", .ended), ("all", .all), ("idle", .only(.idle)), ("active", .only(.active)),
        ("closed", .only(.closed)), ("expired", .only(.expired)), ("failed", .only(.failed)),
    ]

    /// The orders a sessions page can be sorted in, each an index's order.
    static let orderChoices: [(name: String, order: SessionOrder, label: String)] = [
        ("newest", .newest, "newest first"), ("created", .created, "oldest first"), ("expires", .expires, "expires first"),
        ("user", .user, "by user"),
    ]

    /// `/sessions`: a page of sessions filtered by user, data source, state and text, in
    /// an indexed order; the first page of live sessions in the newest order gains new
    /// sessions and loses ended ones as they happen.
    func sessionsPage(_ query: Query) async throws -> HTML {
        let stateName = query["state"] ?? "live"
        guard let states = Self.stateChoices.first(where: { $0.name == stateName })?.states else {
            throw WebError(status: .badRequest, message: "state must be one of \(Self.stateChoices.map(\.name).joined(separator: ", "))")
        }
        let orderName = query["order"] ?? "newest"
        guard let order = Self.orderChoices.first(where: { $0.name == orderName })?.order else {
            throw WebError(status: .badRequest, message: "order must be one of \(Self.orderChoices.map(\.name).joined(separator: ", "))")
        }
        var filter = SessionFilter(states: states, userId: query["user"], dataSource: query["source"], limit: configuration.pageSize)
        filter.order = order
        filter.after = query["after"]
        let text = query["q"] ?? ""
        let page = try await view.searchSessions(filter, text: text)
        let live = states == .live || states == .only(.idle) || states == .only(.active)
        let insertsLive = filter.after == nil && order == .newest && text.isEmpty && (states == .live || states == .all || states == .only(.idle))
        let rows = page.sessions.map { session in
            HTML(
                """
                <tr id="s-\(session.key)"><td>\(sessionLink(session.key))</td><td>\(session.userId)</td><td>\(session.dataSource)</td>\
                <td>\(stateBadge(session.state.rawValue))</td><td>\(session.createdAt.iso8601)</td>\
                <td>\(session.expireAt?.iso8601, default: "—")</td></tr>
                """)
        }
        let empty: HTML = rows.isEmpty ? "<tr id=\"sessions-empty\"><td colspan=\"6\" class=\"muted\">No session matches.</td></tr>" : ""
        var body: HTML = "<h1>Sessions</h1>"
        body += filterForm(query, stateName: stateName, orderName: orderName)
        body += HTML(
            """
            <table><thead><tr><th>Key</th><th>User</th><th>Data source</th><th>State</th><th>Created</th><th>Expires</th></tr></thead>
            <tbody id="sessions-rows" data-user="\(filter.userId ?? "")" data-source="\(filter.dataSource ?? "")" \
            data-live="\(live ? "yes" : "no")" data-insert="\(insertsLive ? "yes" : "no")">\(empty)\(rows)</tbody></table>
            """)
        var pager: HTML = ""
        if page.scanned > 0 {
            pager += HTML("<span class=\"muted\">Searched \(page.scanned) sessions for this page. </span>")
        }
        if let next = page.next {
            let link = HTML.query([
                ("state", stateName), ("order", orderName), ("user", filter.userId), ("source", filter.dataSource), ("q", text),
                ("after", next),
            ])
            pager += HTML("<a id=\"next-page\" href=\"\(configuration.basePath)/sessions\(link)\">Next \(configuration.pageSize) →</a>")
        }
        body += HTML("<p class=\"pager\">\(pager)</p>")
        return layout(title: "Sessions", here: "/sessions", stream: "/events/stream", body: body)
    }

    private func filterForm(_ query: Query, stateName: String, orderName: String) -> HTML {
        let states = Self.stateChoices.map { choice in
            choice.name == stateName
                ? HTML("<option selected>\(choice.name)</option>") : HTML("<option>\(choice.name)</option>")
        }
        let orders = Self.orderChoices.map { choice in
            choice.name == orderName
                ? HTML("<option value=\"\(choice.name)\" selected>\(choice.label)</option>")
                : HTML("<option value=\"\(choice.name)\">\(choice.label)</option>")
        }
        return HTML(
            """
            <form class="filters" method="get" action="\(configuration.basePath)/sessions">
            <label>User<input name="user" value="\(query["user"] ?? "")"></label>
            <label>Data source<input name="source" value="\(query["source"] ?? "")"></label>
            <label>State<select name="state">\(states)</select></label>
            <label>Text<input name="q" value="\(query["q"] ?? "")" placeholder="key, user, source, id"></label>
            <label>Order<select name="order">\(orders)</select></label>
            <button type="submit">Filter</button>
            </form>
            """)
    }
}
