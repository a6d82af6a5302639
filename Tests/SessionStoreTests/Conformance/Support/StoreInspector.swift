/// A value of a stored column, as an inspector reads and writes it.
enum StoredValue: Hashable, Sendable, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral, ExpressibleByNilLiteral,
    CustomStringConvertible
{
    case integer(Int64)
    case text(String)
    case null

    init(integerLiteral value: Int64) { self = .integer(value) }
    init(stringLiteral value: String) { self = .text(value) }
    init(nilLiteral: ()) { self = .null }
    init(_ value: Int64?) { self = value.map(StoredValue.integer) ?? .null }
    init(_ value: String?) { self = value.map(StoredValue.text) ?? .null }

    var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    var text: String? {
        if case .text(let value) = self { return value }
        return nil
    }

    var description: String {
        switch self {
        case .integer(let value): "\(value)"
        case .text(let value): value.debugDescription
        case .null: "NULL"
        }
    }
}

/// Conditions on columns, all of which a row must meet: equality, or `IS NULL` for
/// ``StoredValue/null``.
typealias Conditions = [String: StoredValue]

/// Reads what a store holds, and arranges rows a test needs (a crashed process's
/// instance, an execution left behind), as another process beside the store would.
///
/// Table and column names are the schema's, which every backend shares (the tables and
/// views of `Migrations/`); the SQL is the backend's. Names are plain identifiers,
/// checked before use.
protocol StoreInspector: Sendable {
    /// How many rows of `table` meet `conditions`.
    func count(_ table: String, where conditions: Conditions) throws -> Int64
    /// `columns` of the rows of `table` that meet `conditions`, in the order of
    /// `orderedBy` (a column) when given.
    func rows(_ columns: [String], of table: String, where conditions: Conditions, orderedBy: String?) throws -> [[StoredValue]]
    /// The row count of every table of the schema, by table name.
    func tableCounts() throws -> [String: Int64]
    /// The columns of `table`, in the schema's order.
    func columns(of table: String) throws -> [String]
    /// Inserts a row; returns its `id` (its row id where the table has no `id`).
    @discardableResult
    func insert(_ table: String, _ values: [String: StoredValue]) throws -> Int64
    /// Sets `values` on the rows that meet `conditions`; returns how many.
    @discardableResult
    func update(_ table: String, set values: [String: StoredValue], where conditions: Conditions) throws -> Int
    /// Deletes the rows that meet `conditions`; returns how many.
    @discardableResult
    func delete(_ table: String, where conditions: Conditions) throws -> Int
}

extension StoreInspector {
    /// `column` of the rows of `table` that meet `conditions`, in the order of
    /// `orderedBy` (a column) when given.
    func values(_ column: String, of table: String, where conditions: Conditions = [:], orderedBy: String? = nil) throws -> [StoredValue] {
        try rows([column], of: table, where: conditions, orderedBy: orderedBy).map { $0[0] }
    }

    /// Every row of `table`.
    func count(_ table: String) throws -> Int64 {
        try count(table, where: [:])
    }

    /// `column` of the one row of `table` that meets `conditions`; `nil` when there is
    /// none (and a failed expectation when there are several).
    func value(_ column: String, of table: String, where conditions: Conditions) throws -> StoredValue? {
        let found = try values(column, of: table, where: conditions, orderedBy: nil)
        return found.first
    }

    /// ``value(_:of:where:)`` as an integer; `nil` for none or `NULL`.
    func integer(_ column: String, of table: String, where conditions: Conditions) throws -> Int64? {
        try value(column, of: table, where: conditions)?.integer
    }

    /// ``value(_:of:where:)`` as text; `nil` for none or `NULL`.
    func text(_ column: String, of table: String, where conditions: Conditions) throws -> String? {
        try value(column, of: table, where: conditions)?.text
    }

    /// The live sessions a limit counts under `scope` and `name` (`live_session_counts`);
    /// 0 when the triggers hold no row for them.
    func liveCount(scope: String, name: String) throws -> Int64 {
        try integer("live", of: "live_session_counts", where: ["scope": .text(scope), "name": .text(name)]) ?? 0
    }

    /// The kinds of the events of `sessionKey` (every event when `nil`), in order.
    func eventKinds(sessionKey: String? = nil) throws -> [String] {
        let conditions: Conditions = sessionKey.map { ["session_key": .text($0)] } ?? [:]
        return try values("kind", of: "events", where: conditions, orderedBy: "seq").compactMap(\.text)
    }
}

/// Whether `name` is a plain identifier: a table or column name an inspector may put in
/// its SQL.
func isPlainIdentifier(_ name: String) -> Bool {
    guard let first = name.unicodeScalars.first, first == "_" || ("a"..."z").contains(first) else { return false }
    return name.unicodeScalars.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
}
