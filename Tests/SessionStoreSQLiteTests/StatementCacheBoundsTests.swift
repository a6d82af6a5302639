import Foundation
import SessionStoreSQLite
import Testing

@Suite("Statement cache: bounded in statements and bytes, least recently used out first")
struct StatementCacheBoundsTests {
    let directory: TemporaryDirectory
    /// The SQL of every statement the connections prepare, in order.
    let prepared = LockedValue<[String]>([])

    init() throws {
        directory = try TemporaryDirectory()
    }

    /// A connection to a fresh file in the test's directory, reporting what it prepares to
    /// ``prepared`` from the moment opening is done.
    private func open(
        _ name: String, statements: Int = 512, bytes: Int = 8 * 1024 * 1024
    ) throws -> Database {
        var configuration = DatabaseConfiguration(
            maximumCachedStatements: statements, maximumCachedStatementBytes: bytes)
        let prepared = prepared
        configuration.statementObserver = { sql in prepared.update { $0.append(sql) } }
        let db = try Database(path: directory.path(name), configuration: configuration)
        prepared.update { $0.removeAll() }
        return db
    }

    /// A statement whose text, and nothing else, differs with `number`.
    private static func numbered(_ number: Int) -> String {
        "SELECT \(number) + ?"
    }

    @Test func defaultsAreFiveHundredTwelveStatementsAndEightMiB() {
        let configuration = DatabaseConfiguration()
        #expect(configuration.maximumCachedStatements == 512)
        #expect(configuration.maximumCachedStatementBytes == 8 * 1024 * 1024)
    }

    @Test func twoThousandDistinctStatementsStayWithinBothBounds() throws {
        let db = try open("distinct.sqlite")
        try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL) STRICT")
        var largestCount = 0
        var largestBytes = 0
        for number in 0..<2000 {
            if number.isMultiple(of: 2) {
                #expect(try db.fetchInt64(sql: Self.numbered(number), [1]) == Int64(number + 1))
            } else {
                try db.execute(sql: "INSERT INTO t(id, v) VALUES (?, \(number))", [.integer(Int64(number))])
                #expect(try db.fetchInt64(sql: "SELECT v FROM t WHERE id = ? AND \(number) = \(number)", [.integer(Int64(number))]) == Int64(number))
            }
            largestCount = max(largestCount, db.cachedStatementCount)
            largestBytes = max(largestBytes, db.cachedStatementBytes)
        }
        #expect(db.cachedStatementCount == 512)
        #expect(largestCount == 512)
        #expect(largestBytes <= 8 * 1024 * 1024)
        #expect(db.cachedStatementBytes > 0)
        // Every distinct text was prepared exactly once: 1,000 selects, 1,000 inserts and
        // 1,000 lookups, plus the CREATE TABLE.
        #expect(prepared.value.count == 3001)
        #expect(try db.fetchInt64(sql: "SELECT count(*) FROM t") == 1000)
        #expect(try db.fetchInt64(sql: "SELECT sum(v) FROM t") == Int64((0..<2000).filter { !$0.isMultiple(of: 2) }.reduce(0, +)))
    }

    /// The growth that prompted the bound: `IN` lists as long as each request's, 40,001 to
    /// 40,008 parameters. Each statement takes several MiB, so under the default 8 MiB the
    /// cache keeps only the latest of them, where it used to keep all eight.
    @Test func requestSizedInListsDoNotPinMemory() throws {
        let db = try open("in-lists.sqlite")
        try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY) STRICT")
        try db.execute(sql: "INSERT INTO t(id) SELECT value FROM json_each('[1, 2, 3, 40000]')")
        func inList(_ length: Int) -> String {
            "SELECT count(*) FROM t WHERE id IN (\(Array(repeating: "?", count: length).joined(separator: ", ")))"
        }
        func run(_ length: Int) throws -> Int64? {
            try db.fetchInt64(sql: inList(length), (1...length).map { DatabaseValue.integer(Int64($0)) })
        }
        var statementBytes = 0
        var largestBytes = 0
        for length in 40_001...40_008 {
            #expect(try run(length) == 4)
            largestBytes = max(largestBytes, db.cachedStatementBytes)
            statementBytes += try db.makeStatement(sql: inList(length)).memoryUsed
        }
        #expect(statementBytes > 8 * 1024 * 1024)
        #expect(largestBytes <= 8 * 1024 * 1024)
        // Compared by length: a failure message quoting the SQL would be 80 KB long.
        prepared.update { $0.removeAll() }
        #expect(try run(40_008) == 4)
        #expect(prepared.value.count == 0)
        #expect(try run(40_007) == 4)
        #expect(prepared.value.map(\.utf8.count) == [inList(40_007).utf8.count])
    }

    @Test func aSmallByteBoundEvictsByBytes() throws {
        let probe = try open("probe.sqlite")
        let size = try probe.makeStatement(sql: Self.numbered(1000)).memoryUsed
        #expect(size > 0)
        // Room for about ten such statements, far fewer than the statement bound.
        let byteBound = size * 10 + size / 2
        let db = try open("bytes.sqlite", statements: 512, bytes: byteBound)
        for number in 1000..<1100 {
            #expect(try db.fetchInt64(sql: Self.numbered(number), [1]) == Int64(number + 1))
            #expect(db.cachedStatementBytes <= byteBound)
        }
        #expect(db.cachedStatementCount >= 5)
        #expect(db.cachedStatementCount <= 11)
        #expect(db.cachedStatementBytes > byteBound - 2 * size)

        // The last one run is still cached; the first ones were evicted.
        prepared.update { $0.removeAll() }
        #expect(try db.fetchInt64(sql: Self.numbered(1099), [1]) == 1100)
        #expect(prepared.value.isEmpty)
        #expect(try db.fetchInt64(sql: Self.numbered(1000), [1]) == 1001)
        #expect(prepared.value == [Self.numbered(1000)])
    }

    @Test func aStatementLargerThanTheByteBoundIsNotCachedAndEvictsNothing() throws {
        let probe = try open("probe.sqlite")
        let size = try probe.makeStatement(sql: Self.numbered(1)).memoryUsed
        let db = try open("large.sqlite", statements: 512, bytes: size * 4)
        for number in 1...2 {
            #expect(try db.fetchInt64(sql: Self.numbered(number), [1]) == Int64(number + 1))
        }
        let count = db.cachedStatementCount
        let bytes = db.cachedStatementBytes

        let large = "SELECT \((1...200).map { "\($0) + ?" }.joined(separator: " + "))"
        #expect(try db.makeStatement(sql: large).memoryUsed > size * 4)
        prepared.update { $0.removeAll() }
        let arguments = [DatabaseValue](repeating: 1, count: 200)
        let expected = Int64((1...200).reduce(0, +) + 200)
        #expect(try db.fetchInt64(sql: large, arguments) == expected)
        #expect(try db.fetchInt64(sql: large, arguments) == expected)
        #expect(prepared.value == [large, large])
        #expect(db.cachedStatementCount == count)
        #expect(db.cachedStatementBytes == bytes)
        #expect(try db.fetchInt64(sql: Self.numbered(1), [1]) == 2)
        #expect(try db.fetchInt64(sql: Self.numbered(2), [1]) == 3)
        #expect(prepared.value == [large, large])
    }

    @Test func theLeastRecentlyUsedIsEvicted() throws {
        let db = try open("lru.sqlite", statements: 3)
        let a = "SELECT 'a'", b = "SELECT 'b'", c = "SELECT 'c'", d = "SELECT 'd'"
        func run(_ sql: String) throws -> String? {
            try db.fetchOne(sql: sql) { $0.string(0) }
        }
        #expect(try run(a) == "a")
        #expect(try run(b) == "b")
        #expect(try run(c) == "c")
        #expect(prepared.value == [a, b, c])
        // `a` used again: `b` is now the least recently used, and `d` takes its place.
        #expect(try run(a) == "a")
        #expect(try run(d) == "d")
        #expect(db.cachedStatementCount == 3)
        prepared.update { $0.removeAll() }
        #expect(try run(a) == "a")
        #expect(try run(c) == "c")
        #expect(try run(d) == "d")
        #expect(prepared.value.isEmpty)
        #expect(try run(b) == "b")
        #expect(prepared.value == [b])
    }

    @Test func aHeldStatementStillStepsAfterItsEviction() throws {
        let db = try open("held.sqlite", statements: 2)
        try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY) STRICT")
        try db.execute(sql: "INSERT INTO t(id) SELECT value FROM json_each('[1, 2, 3, 4, 5]')")
        let sql = "SELECT id FROM t ORDER BY id"
        let held = try db.cachedStatement(sql: sql)
        try held.bind([])
        #expect(try held.step())
        var ids = [held.row.int64(0)]
        for number in 0..<20 {
            #expect(try db.fetchInt64(sql: Self.numbered(number), [1]) == Int64(number + 1))
        }
        // Evicted: the cache prepares a new statement for the same SQL.
        #expect(try db.cachedStatement(sql: sql) !== held)
        while try held.step() {
            ids.append(held.row.int64(0))
        }
        held.reset()
        #expect(ids == [1, 2, 3, 4, 5])
    }

    @Test func aStatementBeingSteppedIsNotEvictedByTheQueriesItsRowsRun() throws {
        let db = try open("nested.sqlite", statements: 2)
        try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY) STRICT")
        try db.execute(sql: "INSERT INTO t(id) SELECT value FROM json_each('[1, 2, 3, 4, 5, 6, 7, 8]')")
        let outer = "SELECT id FROM t ORDER BY id"
        prepared.update { $0.removeAll() }
        let doubled = try db.fetchAll(sql: outer) { row throws(SQLiteError) in
            let id = row.int(0)
            let value = try db.fetchInt64(sql: "SELECT \(id) * ?", [2])
            #expect(db.cachedStatementCount <= 2)
            return value
        }
        #expect(doubled == [2, 4, 6, 8, 10, 12, 14, 16])
        #expect(prepared.value.filter { $0 == outer }.count == 1)
        // Still cached, although seven statements came after it.
        #expect(try db.fetchAll(sql: outer) { $0.int64(0) } == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(prepared.value.filter { $0 == outer }.count == 1)
    }

    @Test func aFullCacheOfStatementsInUseRunsTheNextOneUncached() throws {
        let db = try open("in-use.sqlite", statements: 1)
        let outer = "SELECT value FROM json_each('[1, 2, 3]')"
        let inner = "SELECT ? * 10"
        prepared.update { $0.removeAll() }
        let values = try db.fetchAll(sql: outer) { row throws(SQLiteError) in
            try db.fetchInt64(sql: inner, [.integer(row.int64(0))])
        }
        #expect(values == [10, 20, 30])
        #expect(prepared.value == [outer, inner, inner, inner])
        #expect(db.cachedStatementCount == 1)
        #expect(try db.fetchInt64(sql: outer) == 1)
        #expect(prepared.value == [outer, inner, inner, inner])
    }

    @Test func boundsOfZeroCacheNothing() throws {
        for (statements, bytes) in [(0, 8 * 1024 * 1024), (512, 0)] {
            let db = try open("zero-\(statements)-\(bytes).sqlite", statements: statements, bytes: bytes)
            #expect(try db.fetchInt64(sql: Self.numbered(1), [1]) == 2)
            #expect(try db.fetchInt64(sql: Self.numbered(1), [1]) == 2)
            #expect(db.cachedStatementCount == 0)
            #expect(db.cachedStatementBytes == 0)
            #expect(prepared.value == [Self.numbered(1), Self.numbered(1)])
            prepared.update { $0.removeAll() }
        }
    }

    /// SQLite keeps a copy of every bound text and blob until the statement is rebound;
    /// a cached statement must not keep a request's payload.
    @Test func aCachedStatementDoesNotKeepItsBoundValues() throws {
        let db = try open("bindings.sqlite")
        try db.execute(sql: "CREATE TABLE t (payload BLOB NOT NULL) STRICT")
        let insert = "INSERT INTO t(payload) VALUES (?)"
        let payload = Data(repeating: 7, count: 1024 * 1024)
        try db.execute(sql: insert, [.blob(payload)])
        let statement = try db.cachedStatement(sql: insert)
        #expect(statement.memoryUsed < 64 * 1024)
        #expect(try db.fetchInt64(sql: "SELECT length(payload) FROM t") == 1024 * 1024)
    }

    @Test func aFailedStatementLeavesTheByteCountRight() throws {
        let db = try open("failed.sqlite")
        try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY) STRICT")
        let insert = "INSERT INTO t(id) VALUES (?)"
        try db.execute(sql: insert, [1])
        let count = db.cachedStatementCount
        let bytes = db.cachedStatementBytes
        let size = try db.cachedStatement(sql: insert).memoryUsed
        #expect(throws: SQLiteError.self) {
            try db.execute(sql: insert, [1])
        }
        #expect(db.cachedStatementCount == count - 1)
        #expect(db.cachedStatementBytes == bytes - size)
        try db.execute(sql: insert, [2])
        #expect(db.cachedStatementCount == count)
        #expect(db.cachedStatementBytes == bytes)
    }
}
