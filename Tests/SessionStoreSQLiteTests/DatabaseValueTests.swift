import Foundation
import SessionStoreSQLite
import Testing

@Suite("Values round-trip through STRICT tables unchanged")
struct DatabaseValueTests {
    let directory: TemporaryDirectory
    let db: Database

    init() throws {
        directory = try TemporaryDirectory()
        db = try Database(path: directory.path("values.sqlite"))
        try db.execute(sql: """
            CREATE TABLE value (
                id INTEGER PRIMARY KEY,
                content ANY
            ) STRICT
            """)
    }

    /// Stores `value` in the ANY column and reads it back with `Row.value(_:)`, together
    /// with the storage class SQLite reports for it.
    private func roundTrip(_ value: DatabaseValue) throws -> (value: DatabaseValue, storageClass: String) {
        try db.execute(sql: "INSERT INTO value(id, content) VALUES (1, ?)", [value])
        return try #require(db.fetchOne(sql: "SELECT content, typeof(content) FROM value WHERE id = 1") {
            ($0.value(0), $0.string(1))
        })
    }

    @Test func null() throws {
        let stored = try roundTrip(.null)
        #expect(stored.value == .null)
        #expect(stored.value.isNull)
        #expect(stored.storageClass == "null")
    }

    @Test(arguments: [Int64.min, Int64.max, 0, -1, 1, Int64(Int32.max) + 1])
    func integer(_ integer: Int64) throws {
        let stored = try roundTrip(.integer(integer))
        #expect(stored.value == .integer(integer))
        #expect(stored.storageClass == "integer")
    }

    @Test(arguments: [0.0, -0.0, 1.5, -2.25, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude, .leastNormalMagnitude, 1e-300, .pi])
    func real(_ real: Double) throws {
        let stored = try roundTrip(.real(real))
        guard case .real(let read) = stored.value else {
            Issue.record("expected a REAL, read \(stored.value)")
            return
        }
        // Bit for bit, so that -0.0 keeps its sign and subnormals are not flushed to zero.
        #expect(read.bitPattern == real.bitPattern, "wrote \(real), read \(read)")
        #expect(stored.storageClass == "real")
    }

    @Test(arguments: ["", "plain ASCII", "żółw 🐢 日本語", "a\u{0}b", "\u{0}", "line\nbreak\ttab", "e\u{301} é"])
    func text(_ text: String) throws {
        let stored = try roundTrip(.text(text))
        #expect(stored.value == .text(text))
        #expect(stored.storageClass == "text")
        let byteCount = try db.fetchInt64(sql: "SELECT length(CAST(content AS BLOB)) FROM value WHERE id = 1")
        #expect(byteCount == Int64(text.utf8.count))
    }

    @Test func embeddedNULIsStoredWithTheRestOfTheString() throws {
        _ = try roundTrip("a\u{0}b")
        let hex = try db.fetchOne(sql: "SELECT hex(content) FROM value WHERE id = 1") { $0.string(0) }
        #expect(hex == "610062")
        let string = try db.fetchOne(sql: "SELECT content FROM value WHERE id = 1") { $0.string(0) }
        #expect(string == "a\u{0}b")
        #expect(string?.unicodeScalars.count == 3)
    }

    @Test func oneMegabyteString() throws {
        let text = String(repeating: "0123456789abcdeż", count: 1_048_576 / 17) + "🐢"
        let stored = try roundTrip(.text(text))
        #expect(stored.value == .text(text))
        let byteCount = try db.fetchInt64(sql: "SELECT length(CAST(content AS BLOB)) FROM value WHERE id = 1")
        #expect(byteCount == Int64(text.utf8.count))
        #expect(text.utf8.count >= 1_000_000)
    }

    @Test func emptyBlobIsABlobAndNotNull() throws {
        let stored = try roundTrip(.blob(Data()))
        #expect(stored.value == .blob(Data()))
        #expect(stored.storageClass == "blob")
        let facts = try #require(db.fetchOne(sql: "SELECT content IS NULL, length(content) FROM value WHERE id = 1") {
            ($0.bool(0), $0.int64(1))
        })
        #expect(facts.0 == false)
        #expect(facts.1 == 0)
        let readers = try #require(db.fetchOne(sql: "SELECT content FROM value WHERE id = 1") {
            ($0.isNull(0), $0.optionalData(0), $0.data(0))
        })
        #expect(readers.0 == false)
        #expect(readers.1 == Data())
        #expect(readers.2 == Data())
    }

    @Test func blobWithZeroBytes() throws {
        let data = Data([0, 0, 1, 0, 255, 0])
        let stored = try roundTrip(.blob(data))
        #expect(stored.value == .blob(data))
        #expect(stored.storageClass == "blob")
        #expect(try db.fetchInt64(sql: "SELECT length(content) FROM value WHERE id = 1") == 6)
    }

    @Test func randomBlobOf64KiB() throws {
        var generator = SystemRandomNumberGenerator()
        let data = Data((0..<65_536).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        let stored = try roundTrip(.blob(data))
        #expect(stored.value == .blob(data))
        #expect(try db.fetchInt64(sql: "SELECT length(content) FROM value WHERE id = 1") == 65_536)
    }

    @Test func typedColumnsAndTypedReaders() throws {
        try db.execute(sql: """
            CREATE TABLE typed (
                i INTEGER,
                r REAL,
                t TEXT,
                b BLOB
            ) STRICT
            """)
        let insert = "INSERT INTO typed(rowid, i, r, t, b) VALUES (?, ?, ?, ?, ?)"
        try db.execute(sql: insert, [1, .integer(.min), .real(.greatestFiniteMagnitude), "żółw 🐢 日本語", .blob(Data([0, 1, 0, 255]))])
        try db.execute(sql: insert, [2, .integer(.max), .real(1e-300), "", .blob(Data())])
        try db.execute(sql: insert, [3, nil, nil, nil, nil])

        struct Typed: Equatable {
            var i: Int64?, r: Double, t: String?, b: Data?, isNull: [Bool]
        }
        let rows = try db.fetchAll(sql: "SELECT i, r, t, b FROM typed ORDER BY rowid") { row in
            Typed(
                i: row.optionalInt64(0), r: row.double(1), t: row.optionalString(2), b: row.optionalData(3),
                isNull: (0..<row.columnCount).map { row.isNull($0) })
        }
        #expect(rows == [
            Typed(i: .min, r: .greatestFiniteMagnitude, t: "żółw 🐢 日本語", b: Data([0, 1, 0, 255]), isNull: [false, false, false, false]),
            Typed(i: .max, r: 1e-300, t: "", b: Data(), isNull: [false, false, false, false]),
            Typed(i: nil, r: 0, t: nil, b: nil, isNull: [true, true, true, true]),
        ])

        let values = try db.fetchAll(sql: "SELECT i, r, t, b FROM typed ORDER BY rowid") { row in
            (0..<row.columnCount).map { row.value($0) }
        }
        #expect(values == [
            [.integer(.min), .real(.greatestFiniteMagnitude), .text("żółw 🐢 日本語"), .blob(Data([0, 1, 0, 255]))],
            [.integer(.max), .real(1e-300), .text(""), .blob(Data())],
            [.null, .null, .null, .null],
        ])
    }

    @Test func nonOptionalReadersGiveZeroValuesForNull() throws {
        let row = try #require(db.fetchOne(sql: "SELECT NULL AS i, NULL AS t, NULL AS b") { row in
            (row.int64(0), row.int(0), row.bool(0), row.string(1), row.data(2), row.columnName(0), row.columnName(2))
        })
        #expect(row.0 == 0)
        #expect(row.1 == 0)
        #expect(row.2 == false)
        #expect(row.3 == "")
        #expect(row.4 == Data())
        #expect(row.5 == "i")
        #expect(row.6 == "b")
    }

    @Test func swiftValuesConvertToTheirStorageClass() {
        #expect(DatabaseValue(Optional<Int>.none) == .null)
        #expect(DatabaseValue(42) == .integer(42))
        #expect(DatabaseValue(true) == .integer(1))
        #expect(DatabaseValue(2.5) == .real(2.5))
        #expect(DatabaseValue("x") == .text("x"))
        #expect(DatabaseValue(Data([1])) == .blob(Data([1])))
        let literals: [DatabaseValue] = [nil, 7, 0.5, "s", false]
        #expect(literals == [.null, .integer(7), .real(0.5), .text("s"), .integer(0)])
    }
}
