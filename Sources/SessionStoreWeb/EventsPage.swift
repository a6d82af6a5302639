import Foundation
import HTTPTypes
import Hummingbird
import SessionStoreCore

extension SessionStoreWebView {
    /// The most events a catching-up stream reads from the log before it goes live.
    static let catchUpLimit = 10_000

    /// `/events`: the newest events, filtered by kind and session, in order; the page
    /// appends new ones as they commit.
    func eventsPage(_ query: Query) async throws -> HTML {
        let kind = query["kind"].map(EventKind.init(rawValue:))
        let session = query["session"]
        let filter = EventFilter(sessionKey: session, kind: kind)
        let events: [StoreEvent]
        if view.principal == nil {
            events = try await view.unscopedStore.listLastEvents(limit: configuration.pageSize, filter: filter)
        } else {
            let latest = try await view.latestEventSeq()
            events = try await view.listEvents(after: max(0, latest - Int64(configuration.pageSize)), limit: configuration.pageSize, filter: filter)
        }
        let kinds = EventKind.known.map(\.rawValue).sorted().map { name in
            name == kind?.rawValue ? HTML("<option selected>\(name)</option>") : HTML("<option>\(name)</option>")
        }
        var body: HTML = "<h1>Events</h1>"
        body += HTML(
            """
            <form class="filters" method="get" action="\(configuration.basePath)/events">
            <label>Kind<select name="kind"><option value="">every kind</option>\(kinds)</select></label>
            <label>Session<input name="session" value="\(session ?? "")" placeholder="session key"></label>
            <button type="submit">Filter</button>
            </form>
            <p class="muted">The newest \(configuration.pageSize) matching events, oldest first; new ones are added below as they commit.</p>
            """)
        body += eventsTable(events, emptyText: "No events match.")
        let stream = "/events/stream" + HTML.query([("kind", kind?.rawValue), ("session", session)])
        return layout(title: "Events", here: "/events", stream: stream, body: body)
    }

    /// `/events/stream`: Server-Sent Events of the events the view may see, optionally of
    /// one kind and one session. Each message's `id:` is the event's sequence number and
    /// its data the event as JSON; a client sending `Last-Event-ID` first gets the events
    /// after it from the log (up to ``catchUpLimit``), then the live ones, none twice.
    func eventStream(_ request: Request) -> Response {
        let query = Query(request)
        let kind = query["kind"].map(EventKind.init(rawValue:))
        let session = query["session"]
        let lastEventId = request.headers[.lastEventID].flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
        let view = self.view
        let broadcaster = self.broadcaster
        var headers = Self.securityHeaders
        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[.xAccelBuffering] = "no"
        let body = ResponseBody { writer in
            // A client that goes away ends its stream at once, not at the next write.
            try await request.body.consumeWithCancellationOnInboundClose { _ in
                try await Self.stream(
                    to: &writer, view: view, broadcaster: broadcaster, kind: kind, session: session, lastEventId: lastEventId)
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// Writes the events after `lastEventId` from the log, then the live ones, until the
    /// broadcaster ends or the task is cancelled.
    private static func stream(
        to writer: inout any ResponseBodyWriter, view: ScopedSessionStore, broadcaster: EventBroadcaster, kind: EventKind?,
        session: String?, lastEventId: Int64?
    ) async throws {
        let subscription = broadcaster.join()
        defer { broadcaster.leave(subscription) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func message(_ event: StoreEvent) throws -> ByteBuffer {
            let json = String(decoding: try encoder.encode(event), as: UTF8.self)
            return ByteBuffer(string: "id: \(event.seq)\ndata: \(json)\n\n")
        }
        try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
        if let lastEventId, lastEventId < subscription.position {
            var after = lastEventId
            var read = 0
            catchUp: while read < catchUpLimit {
                let page = try await view.listEvents(after: after, limit: 500, filter: EventFilter(sessionKey: session, kind: kind))
                read += page.count
                for event in page {
                    guard event.seq <= subscription.position else { break catchUp }
                    try await writer.write(try message(event))
                }
                guard let newest = page.last?.seq, page.count == 500 else { break }
                after = newest
            }
        }
        var last = subscription.position
        for await delivery in subscription.deliveries {
            switch delivery {
            case .heartbeat:
                try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
            case .event(let event):
                guard event.seq > last else { continue }
                last = event.seq
                guard kind == nil || event.kind == kind, session == nil || event.sessionKey == session,
                    let shown = view.visible(event)
                else { continue }
                try await writer.write(try message(shown))
            }
        }
    }
}
