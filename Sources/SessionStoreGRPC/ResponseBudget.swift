import GRPCCore
import SessionStoreCore
import SwiftProtobuf

/// The bound on the bytes of one response that carries a list: a list response stops
/// adding items once its serialized items would pass ``defaultLimit``, whatever the
/// request's page size or limit.
///
/// Without it, a response's size is the number of rows asked for times the size of a row,
/// which for sessions (up to `max-details-per-session` details of `max-value-bytes` each)
/// runs into gigabytes held in the server's memory at once, only to be refused by a client
/// whose receive limit is gRPC's usual 4 MiB.
///
/// How a response says it was cut:
/// - `GetCurrentSessions`: by its `next_page_token`, after the last session sent.
/// - `ListActiveExecutions`, `GetSessionTree`: by their `truncated` flag.
/// - `ListExecutions`, `ListAbandonedExecutions`, `ListStreamingQueries`, `ListResources`
///   have neither; the cut shows as the trailing-metadata entry ``truncatedKey`` set to
///   `true`, and what was left out cannot be read through these calls.
///
/// One item larger than the budget is still sent, alone, so every item can be read and a
/// pager always moves on.
///
/// A call that answers one session (`CreateSession`, `GetSessionInfo`,
/// `UpdateSessionDetails`, `UpdateSessionIdentifier`, `EndSession`, `ReleaseSession`) sends
/// it whole, by the same rule: with the default limits one session can pass the budget
/// (256 details and 256 config entries of a 1 KiB name and a 64 KiB value each, about
/// 33 MiB, plus 1,024 link keys), and the `Session` message has no field that could say
/// part of it was left out. Its size is bounded by the store's per-session limits rather
/// than by this budget. `InterruptResponse`'s ids stay within the budget under the default
/// limits (at most 1,000 unclosed executions and 1,000 streaming queries per session, ids
/// of at most 1 KiB: about 2 MiB) and are sent whole: they record what the call did.
struct ResponseBudget {
    /// 3 MiB: below the 4 MiB a gRPC client receives by default, leaving room for the
    /// fields beside the list and for the message framing.
    static let defaultLimit = 3 * 1024 * 1024

    /// The trailing-metadata key, set to `true`, of a response whose list the budget cut
    /// when the response has no field to say so.
    static let truncatedKey = "sessionstore-truncated"

    /// The rows of a store read before the size of a row is known.
    static let firstRead = 16

    /// The most bytes the admitted items may take.
    let limit: Int
    /// The bytes the admitted items take in the response, with their field tags and lengths.
    private(set) var used = 0
    /// How many items were admitted.
    private(set) var admitted = 0

    init(limit: Int = ResponseBudget.defaultLimit) {
        self.limit = limit
    }

    /// Counts `item` as one more element of a repeated message field and answers whether
    /// it is sent: it is when it keeps the response within the limit, and always when it
    /// is the first.
    mutating func admit(_ item: some SwiftProtobuf.Message) throws -> Bool {
        let size = (try item.serializedBytes() as [UInt8]).count
        // The field's tag (one byte: every list field's number is below 16) and the length.
        let cost = 1 + Self.varintSize(size) + size
        guard admitted == 0 || used + cost <= limit else { return false }
        used += cost
        admitted += 1
        return true
    }

    /// The messages of `items`, in order, up to the first that does not fit.
    mutating func fill<Item, Element: SwiftProtobuf.Message>(
        _ items: some Sequence<Item>, _ message: (Item) -> Element
    ) throws -> BudgetedList<Element> {
        var messages: [Element] = []
        for item in items {
            let element = message(item)
            guard try admit(element) else { return BudgetedList(messages: messages, cut: true) }
            messages.append(element)
        }
        return BudgetedList(messages: messages, cut: false)
    }

    /// How many more items to read from the store: ``firstRead`` at first, then as many as
    /// the bytes left hold at the average size so far, plus one so that a read which fits
    /// shows whether more follow; at most four times as many as fit so far, so that a list
    /// whose later items are larger is not read far past the budget.
    func nextRead() -> Int {
        guard admitted > 0 else { return Self.firstRead }
        let average = max(1, used / admitted)
        let likely = max(0, limit - used) / average + 1
        return max(1, min(likely, admitted * 4))
    }

    private static func varintSize(_ value: Int) -> Int {
        var size = 1
        var rest = value >> 7
        while rest > 0 {
            size += 1
            rest >>= 7
        }
        return size
    }
}

/// A list response's messages as a ``ResponseBudget`` let them through.
struct BudgetedList<Element> {
    /// The items sent.
    var messages: [Element]
    /// Whether items that were there were left out.
    var cut: Bool
}

extension ResponseBudget {
    /// One page of at most `size` items from a store read that continues after a given
    /// item, read a few at a time (``nextRead()``) rather than `size` at once, so that a
    /// page the budget ends after a few large items does not hold `size` of them.
    ///
    /// - Parameters:
    ///   - size: the page size, within 1...10,000 (the store's list limit).
    ///   - read: up to `count` items after `after` (`nil`: where the page starts).
    /// - Returns: the page and its last item; `more` when a next page is due: the budget
    ///   cut the page, or it is full (items may follow).
    /// - Throws: `INVALID_ARGUMENT.LIMIT` for a size outside 1...10,000.
    static func page<Item, Element: SwiftProtobuf.Message>(
        size: Int,
        read: (_ after: Item?, _ count: Int) async throws -> [Item],
        message: (Item) -> Element
    ) async throws -> (messages: [Element], last: Item?, more: Bool) {
        try checkListLimit(size)
        var budget = ResponseBudget()
        var messages: [Element] = []
        var last: Item?
        while messages.count < size {
            let count = min(size - messages.count, budget.nextRead())
            let items = try await read(last, count)
            for item in items {
                let element = message(item)
                guard try budget.admit(element) else { return (messages, last, true) }
                messages.append(element)
                last = item
            }
            if items.count < count { return (messages, last, false) }
        }
        return (messages, last, true)
    }

    /// The first items, up to `limit`, of a list the store reads only from its start (a
    /// limit, no cursor). A short prefix is read first, and a longer one, from the start
    /// again, only while all of it fits: a list the budget ends after a few large items is
    /// not read `limit` items deep, and one of small items is read in a few steps, each up
    /// to five times as long as the last.
    ///
    /// - Returns: the items sent, whether the budget cut them, and how many the last read
    ///   returned (`limit` when the list may go on past it).
    /// - Throws: `INVALID_ARGUMENT.LIMIT` for a limit outside 1...10,000.
    static func prefix<Item, Element: SwiftProtobuf.Message>(
        limit: Int, read: (_ count: Int) async throws -> [Item], message: (Item) -> Element
    ) async throws -> (list: BudgetedList<Element>, read: Int) {
        try checkListLimit(limit)
        var count = min(limit, firstRead)
        while true {
            let items = try await read(count)
            var budget = ResponseBudget()
            let list = try budget.fill(items, message)
            if list.cut || items.count < count || count >= limit { return (list, items.count) }
            count = min(limit, count + budget.nextRead())
        }
    }
}

extension ResponseBudget {
    /// The store's check of a list limit, made here because the reads ask for fewer items
    /// than the limit, which the store would accept where it refuses the limit itself.
    static func checkListLimit(_ limit: Int) throws {
        guard (1...10_000).contains(limit) else {
            throw SessionStoreError(code: .invalidLimit, message: "limit must be within 1...10000 (got \(limit))")
        }
    }
}

extension ServerResponse {
    /// A response of `message`, whose list the budget `cut` or not, saying so in the
    /// trailing metadata (``ResponseBudget/truncatedKey``) when it did.
    init(_ message: Message, cut: Bool) {
        var trailers = Metadata()
        if cut { trailers.addString("true", forKey: ResponseBudget.truncatedKey) }
        self.init(message: message, trailingMetadata: trailers)
    }
}
