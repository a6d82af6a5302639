/// The prepared statements of one connection, keyed by SQL text and bounded both in number
/// and in the heap memory SQLite holds for them. When a new statement would pass either
/// bound, the least recently used statements are dropped first.
///
/// Dropping a statement only drops the cache's reference: a caller still holding it keeps
/// a valid statement, finalized when that caller lets go of it (``Statement`` finalizes in
/// `deinit`). Statements that ``Database`` is stepping are marked in use and never
/// dropped.
///
/// A hit stays cheap: the last few statements are found by comparing SQL strings, and a
/// use is recorded by stamping a counter on the statement. Only an insertion into a full
/// cache scans for the oldest stamp.
struct StatementCache {
    /// The most statements kept; zero or less keeps none.
    let countLimit: Int
    /// The most bytes of statement memory kept, as ``Statement/memoryUsed`` measures it
    /// when the statement is added; zero or less keeps none.
    let byteLimit: Int
    private var statements: [String: Statement] = [:]
    /// The statements used last and their SQL, checked before the dictionary: a hot path
    /// runs the same few statements over and over, and comparing the same string (the same
    /// storage, usually a `static let`) costs nothing, where hashing it for the dictionary
    /// costs a pass over its text. Two different SQL texts differ within their first bytes.
    /// Every statement here is also in `statements`, so it counts against the bounds.
    private var recent: [(sql: String, statement: Statement)] = []
    private static let recentCount = 4
    /// The stamp of the latest use. 64 bits do not wrap in any process's lifetime.
    private var clock: UInt64 = 0
    /// The bytes of the statements held, as charged when each was added.
    private(set) var bytes = 0

    init(countLimit: Int, byteLimit: Int) {
        self.countLimit = countLimit
        self.byteLimit = byteLimit
    }

    /// The number of statements held.
    var count: Int { statements.count }

    /// The cached statement for `sql`, marked as used now; nil when none is cached.
    mutating func statement(for sql: String) -> Statement? {
        for entry in recent where entry.sql == sql {
            clock &+= 1
            entry.statement.lastUse = clock
            return entry.statement
        }
        guard let statement = statements[sql] else { return nil }
        clock &+= 1
        statement.lastUse = clock
        remember(statement, sql: sql)
        return statement
    }

    /// Caches `statement`, just prepared, under its SQL (replacing any other statement
    /// cached for that SQL), first dropping least recently used statements that are not in
    /// use until it fits both bounds.
    ///
    /// Returns false and caches nothing when it cannot fit: it alone is larger than
    /// ``byteLimit``, or the statements in use leave no room. No other statement is
    /// dropped then.
    @discardableResult
    mutating func insert(_ statement: Statement) -> Bool {
        let size = statement.memoryUsed
        guard countLimit > 0, byteLimit > 0, size <= byteLimit else { return false }
        if let previous = statements[statement.sql] {
            if previous === statement { return true }
            remove(previous)
        }
        guard let victims = victims(makingRoomFor: size) else { return false }
        for victim in victims {
            remove(victim)
        }
        statement.cachedBytes = size
        bytes += size
        statements[statement.sql] = statement
        clock &+= 1
        statement.lastUse = clock
        remember(statement, sql: statement.sql)
        return true
    }

    /// The statements to drop, oldest first, so one more statement of `size` bytes fits
    /// both bounds; nil when the statements in use leave no room.
    private func victims(makingRoomFor size: Int) -> [Statement]? {
        func fits(count: Int, bytes: Int) -> Bool {
            count < countLimit && bytes + size <= byteLimit
        }
        if fits(count: statements.count, bytes: bytes) { return [] }
        // The usual case, a full cache taking one more statement of common size, drops
        // just the oldest: one scan finds it.
        var oldest: Statement?
        for statement in statements.values where statement.activeUses == 0 {
            if let current = oldest, current.lastUse <= statement.lastUse { continue }
            oldest = statement
        }
        guard let oldest else { return nil }
        if fits(count: statements.count - 1, bytes: bytes - oldest.cachedBytes) { return [oldest] }
        // A large statement displacing several: sort once rather than scan per victim.
        let candidates = statements.values.filter { $0.activeUses == 0 }.sorted { $0.lastUse < $1.lastUse }
        var victims: [Statement] = []
        var keptCount = statements.count
        var keptBytes = bytes
        for candidate in candidates where !fits(count: keptCount, bytes: keptBytes) {
            victims.append(candidate)
            keptCount -= 1
            keptBytes -= candidate.cachedBytes
        }
        return fits(count: keptCount, bytes: keptBytes) ? victims : nil
    }

    /// Drops `statement` from the cache if it is the one cached for its SQL.
    mutating func remove(_ statement: Statement) {
        guard statements[statement.sql] === statement else { return }
        statements[statement.sql] = nil
        bytes -= statement.cachedBytes
        recent.removeAll { $0.statement === statement }
    }

    /// Drops every statement.
    mutating func removeAll() {
        recent.removeAll()
        statements.removeAll()
        bytes = 0
    }

    private mutating func remember(_ statement: Statement, sql: String) {
        if recent.count == Self.recentCount {
            recent.removeLast()
        }
        recent.insert((sql, statement), at: 0)
    }
}
