import Foundation
import SessionStoreCore

extension SessionStoreWebView {
    /// `/`: the store at a glance. The trusted view shows the store-wide figures; a
    /// principal's view shows its own live sessions and events.
    func overviewPage() async throws -> HTML {
        guard view.principal == nil else { return try await principalOverview() }
        let store = view.unscopedStore
        let overview = try await store.overview()
        let (clock, instances) = try await store.otherInstances()
        let limits = store.configuration.limits
        let events = try await store.listLastEvents(limit: 15)
        var body: HTML = "<h1>Overview</h1>"
        body += HTML(
            """
            <div class="cards">
            <div class="card"><div class="figure" id="live-total">\(overview.liveTotal)</div><div class="label">live sessions\(limits.maxSessions.map { " (limit \($0))" } ?? "")</div></div>
            <div class="card"><div class="figure">\(String(format: "%.2f", overview.eventsPerSecond))</div><div class="label">events per second (last minute)</div></div>
            <div class="card"><div class="figure">\(overview.sweeperLag.map(Self.text) ?? "never")</div><div class="label">since the last sweep pass</div></div>
            <div class="card"><div class="figure">\(overview.refusalsLastHour.reduce(0) { $0 + $1.total })</div><div class="label">opens refused in the last hour</div></div>
            <div class="card"><div class="figure">\(overview.lastEventSeq)</div><div class="label">newest event</div></div>
            </div>
            """)
        body += "<div class=\"grid\">"
        body += byDataSource(overview, limit: limits.maxSessionsPerDataSource)
        body += byUser(overview, limit: limits.maxSessionsPerUser)
        body += refusals(overview)
        body += expiring(overview)
        body += "</div>"
        body += instancesTable(instances, now: clock)
        body += "<h2>Recent events</h2>" + eventsTable(events, emptyText: "No events yet.")
        return layout(title: "Overview", here: "/", stream: "/events/stream", body: body)
    }

    private func principalOverview() async throws -> HTML {
        let live = try await view.listSessions(SessionFilter(states: .live, limit: configuration.pageSize))
        let latest = try await view.latestEventSeq()
        let events = try await view.listEvents(after: max(0, latest - 200), limit: 15)
        var body: HTML = "<h1>Overview</h1>"
        body += HTML(
            """
            <div class="cards"><div class="card"><div class="figure" id="live-total">\(live.count)</div>\
            <div class="label">your live sessions</div></div></div>
            """)
        body += "<h2>Recent events</h2>" + eventsTable(events, emptyText: "No events yet.")
        return layout(title: "Overview", here: "/", stream: "/events/stream", body: body)
    }

    /// `live/limit`, marked when at least 90% of the limit.
    private func usage(_ live: Int64, limit: Int?) -> HTML {
        guard let limit, limit > 0 else { return HTML("\(live)") }
        let near = live * 10 >= Int64(limit) * 9
        return near ? HTML("<span class=\"near\">\(live)/\(limit)</span>") : HTML("\(live)/\(limit)")
    }

    private func byDataSource(_ overview: StoreOverview, limit: Int?) -> HTML {
        var totals: [String: (idle: Int64, active: Int64)] = [:]
        for count in overview.liveByDataSource {
            var total = totals[count.dataSource] ?? (0, 0)
            if count.state == .active { total.active += count.count } else { total.idle += count.count }
            totals[count.dataSource] = total
        }
        let rows = totals.sorted { $0.key < $1.key }.map { source, total in
            HTML(
                """
                <tr><td><a href="\(configuration.basePath)/sessions\(HTML.query([("source", source)]))">\(source)</a></td>\
                <td class="num">\(total.idle)</td><td class="num">\(total.active)</td>\
                <td class="num">\(usage(total.idle + total.active, limit: limit))</td></tr>
                """)
        }
        return section(
            "Live sessions by data source", header: "<th>Data source</th><th class=\"num\">Idle</th><th class=\"num\">Active</th><th class=\"num\">Live</th>",
            rows: rows, columns: 4, empty: "No live session.")
    }

    private func byUser(_ overview: StoreOverview, limit: Int?) -> HTML {
        let rows = overview.liveByUser.map { user in
            HTML(
                """
                <tr><td><a href="\(configuration.basePath)/sessions\(HTML.query([("user", user.userId)]))">\(user.userId)</a></td>\
                <td class="num">\(usage(user.live, limit: limit))</td></tr>
                """)
        }
        return section(
            "Live sessions by user", header: "<th>User</th><th class=\"num\">Live / limit</th>", rows: rows, columns: 2,
            empty: "No live session.",
            note: "The users of the newest \(SessionStore.overviewUserSample) live sessions, with their exact counts.")
    }

    private func refusals(_ overview: StoreOverview) -> HTML {
        let rows = overview.refusalsLastHour.map { HTML("<tr><td><code>\($0.label)</code></td><td class=\"num\">\($0.total)</td></tr>") }
        return section(
            "Refusals in the last hour", header: "<th>Code</th><th class=\"num\">Opens refused</th>", rows: rows, columns: 2,
            empty: "None.")
    }

    private func expiring(_ overview: StoreOverview) -> HTML {
        let rows = overview.expiringNext.map { session in
            let remaining = Duration.milliseconds(max(0, session.expireAt.milliseconds - overview.now.milliseconds))
            return HTML(
                """
                <tr><td>\(sessionLink(session.key))</td><td>\(session.userId)</td><td>\(session.dataSource)</td>\
                <td>in \(Self.text(remaining))</td></tr>
                """)
        }
        return section(
            "Expires next", header: "<th>Session</th><th>User</th><th>Data source</th><th>Expires</th>", rows: rows, columns: 4,
            empty: "No live session expires.")
    }

    /// This process and every other instance with the store open, live or dead, with its
    /// last heartbeat's age on the store's clock (the database's on PostgreSQL).
    private func instancesTable(_ instances: [StoreInstance], now: Timestamp) -> HTML {
        let this = HTML(
            """
            <tr><td>\(view.unscopedStore.configuration.hostIdentity)</td><td class="num">\(ProcessInfo.processInfo.processIdentifier)</td>\
            <td>this process</td><td>—</td><td>—</td><td>alive</td></tr>
            """)
        let rows = instances.map { instance in
            let silent = Duration.milliseconds(max(0, now.milliseconds - instance.lastHeartbeat.milliseconds))
            return HTML(
                """
                <tr><td>\(instance.host)</td><td class="num">\(instance.pid)</td><td>\(instance.serving ? "serving" : "open")</td>\
                <td>\(instance.startedAt.iso8601)</td><td>\(Self.text(silent)) ago</td>\
                <td>\(instance.alive ? "alive" : "dead, to be recovered")</td></tr>
                """)
        }
        return section(
            "Instances",
            header: "<th>Host</th><th class=\"num\">Pid</th><th>Role</th><th>Started</th><th>Last heartbeat</th><th>State</th>",
            rows: [this] + rows, columns: 6, empty: "")
    }

    /// A titled table, or its `empty` text when it has no row.
    func section(_ title: String, header: HTML, rows: [HTML], columns: Int, empty: String, note: String? = nil) -> HTML {
        let body: HTML = rows.isEmpty ? HTML("<tr><td colspan=\"\(columns)\" class=\"muted\">\(empty)</td></tr>") : HTML("\(rows)")
        let footnote = note.map { HTML("<p class=\"muted\">\($0)</p>") } ?? ""
        return HTML("<section><h2>\(title)</h2><table><thead><tr>\(header)</tr></thead><tbody>\(body)</tbody></table>\(footnote)</section>")
    }
}
