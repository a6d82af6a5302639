import ArgumentParser
import Foundation
import SessionStore

/// What a listing left out, said on stderr after it in text mode: a person reading a
/// page should know it is not everything. JSON output carries no such line.
struct ListingNote {
    /// How many rows were not shown.
    let count: Int
    /// What they are, plural: "more sessions", "earlier events".
    let noun: String
    /// Why, or how to see them: "--limit 100".
    let hint: String

    /// Writes `N NOUN not shown (HINT)` to stderr, or nothing when none were left out.
    static func print(_ note: ListingNote) {
        guard note.count > 0 else { return }
        let line = TerminalText.escaped("\(note.count) \(note.noun) not shown (\(note.hint))")
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

extension ListingNote {
    /// What a page of a durable subscription (`subscribe`, `releases`) cut by `--limit`
    /// left pending: the events of `kind` (any kind for `nil`) after `last`, the last one
    /// printed; `nil` for a page that was not full.
    static func pending(
        _ store: SessionStore, printed: Int, last: Int64?, limit: Int, kind: EventKind?, noun: String, acknowledged: Bool
    ) async throws -> ListingNote? {
        guard printed == limit, let last else { return nil }
        let count = try await store.countEvents(after: last, filter: EventFilter(kind: kind))
        let hint = "pending past --limit \(limit); " + (acknowledged ? "run again to read on" : "with --ack the next run reads on")
        return ListingNote(count: count, noun: "more \(noun)", hint: hint)
    }
}

/// The orders `list --sort` offers.
enum ListSort: String, CaseIterable, ExpressibleByArgument {
    case newest, created, expires, user

    var order: SessionOrder {
        switch self {
        case .newest: .newest
        case .created: .created
        case .expires: .expires
        case .user: .user
        }
    }
}

/// A `--state` value: live, ended, all or one state.
func parseStates(_ text: String) throws -> SessionFilter.States {
    switch text {
    case "live": return .live
    case "ended": return .ended
    case "all": return .all
    default:
        guard let only = SessionState(rawValue: text) else {
            throw ValidationError("--state takes live, ended, all or a state name; not \(text.debugDescription)")
        }
        return .only(only)
    }
}

/// Sessions of `filter`, their secrets redacted (a listing shows other users' sessions),
/// and with `counting` what the limit left out.
func listSessions(
    _ store: SessionStore, _ filter: SessionFilter, counting: Bool, hint: String
) async throws -> (sessions: [Session], omitted: ListingNote?) {
    guard counting else { return (try await store.listSessions(filter).map(store.redaction.session), nil) }
    let (sessions, total) = try await store.listSessionsCounting(filter)
    return (sessions.map(store.redaction.session), ListingNote(count: total - sessions.count, noun: "more sessions", hint: hint))
}

/// One run of `events` without --follow.
enum EventsPage {
    /// The events after `since`: the first `limit` (default 100) or the last `tail`; with
    /// `counting`, what the page left out.
    static func read(
        _ store: SessionStore, since: Int64, limit: Int?, tail: Int?, filter: EventFilter, counting: Bool
    ) async throws -> ([StoreEvent], ListingNote?) {
        if let tail {
            let events = try await store.listLastEvents(after: since, limit: tail, filter: filter)
            guard counting, events.count == tail, let first = events.first else { return (events, nil) }
            let earlier = try await store.countEvents(after: since, before: first.seq, filter: filter)
            return (events, ListingNote(count: earlier, noun: "earlier events", hint: "--tail \(tail)"))
        }
        let limit = limit ?? 100
        let events = try await store.listEvents(after: since, limit: limit, filter: filter)
        guard counting, events.count == limit, let last = events.last else { return (events, nil) }
        let later = try await store.countEvents(after: last.seq, filter: filter)
        return (events, ListingNote(count: later, noun: "more events", hint: "read on with --since \(last.seq)"))
    }
}
