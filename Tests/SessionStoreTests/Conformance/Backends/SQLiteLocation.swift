import SessionStore
import SessionStoreSQLite

extension Backend {
    /// The embedded default: one SQLite file in a temporary directory of its own.
    static let sqlite = Backend(name: "sqlite") { SQLiteLocation() }
}

/// A database file in its own temporary directory.
final class SQLiteLocation: StoreLocation {
    let directory = TemporaryDirectory()
    var path: String { directory.path("sessions.sqlite") }

    func open(configuration: SessionStoreConfiguration) async throws -> SessionStore {
        try await SessionStore.open(path: path, configuration: configuration)
    }

    var inspector: any StoreInspector { SQLiteInspector(path: path) }
}

/// Reads and writes the file on connections of its own, as the `sqlite3` shell would.
struct SQLiteInspector: StoreInspector {
    let path: String

    private func name(_ name: String) throws -> String {
        try InspectorSQL.name(name)
    }

    private func argument(_ value: StoredValue) -> DatabaseValue {
        switch value {
        case .integer(let value): .integer(value)
        case .text(let value): .text(value)
        case .null: .null
        }
    }

    /// ` WHERE a = ? AND b IS NULL`, in column order, with its arguments.
    private func clause(_ conditions: Conditions) throws -> (String, [DatabaseValue]) {
        let (sql, values) = try InspectorSQL.whereClause(conditions)
        return (sql, values.map(argument))
    }

    private func reading<T>(_ body: (Database) throws -> T) throws -> T {
        try body(try Database(path: path, configuration: DatabaseConfiguration(readOnly: true)))
    }

    private func writing<T>(_ body: (Database) throws -> T) throws -> T {
        try body(try Database(path: path, configuration: DatabaseConfiguration(createIfMissing: false)))
    }

    func count(_ table: String, where conditions: Conditions) throws -> Int64 {
        let (condition, arguments) = try clause(conditions)
        return try reading { try $0.fetchInt64(sql: "SELECT count(*) FROM \(try name(table))\(condition)", arguments) ?? 0 }
    }

    func rows(_ columns: [String], of table: String, where conditions: Conditions, orderedBy: String?) throws -> [[StoredValue]] {
        let (condition, arguments) = try clause(conditions)
        let order = try orderedBy.map { " ORDER BY \(try name($0))" } ?? ""
        let selected = try columns.map(name).joined(separator: ", ")
        return try reading { db in
            try db.fetchAll(sql: "SELECT \(selected) FROM \(try name(table))\(condition)\(order)", arguments) { row in
                columns.indices.map { index in
                    switch row.value(index) {
                    case .integer(let value): StoredValue.integer(value)
                    case .text(let value): StoredValue.text(value)
                    default: StoredValue.null
                    }
                }
            }
        }
    }

    func tableCounts() throws -> [String: Int64] {
        try reading { db in
            let tables = try db.fetchAll(sql: "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name") {
                $0.string(0)
            }
            var counts: [String: Int64] = [:]
            for table in tables {
                counts[table] = try db.fetchInt64(sql: "SELECT count(*) FROM \"\(table)\"") ?? -1
            }
            return counts
        }
    }

    func columns(of table: String) throws -> [String] {
        try reading { db in
            try db.fetchAll(sql: "SELECT name FROM pragma_table_info(?) ORDER BY cid", [.text(try name(table))]) { $0.string(0) }
        }
    }

    func insert(_ table: String, _ values: [String: StoredValue]) throws -> Int64 {
        let sorted = values.sorted { $0.key < $1.key }
        let columns = try sorted.map { try name($0.key) }.joined(separator: ", ")
        let marks = Array(repeating: "?", count: sorted.count).joined(separator: ", ")
        return try writing { db in
            try db.execute(
                sql: "INSERT INTO \(try name(table)) (\(columns)) VALUES (\(marks))", sorted.map { argument($0.value) })
            return db.lastInsertedRowID
        }
    }

    func update(_ table: String, set values: [String: StoredValue], where conditions: Conditions) throws -> Int {
        let sorted = values.sorted { $0.key < $1.key }
        let assignments = try sorted.map { "\(try name($0.key)) = ?" }.joined(separator: ", ")
        let (condition, arguments) = try clause(conditions)
        return try writing { db in
            try db.execute(
                sql: "UPDATE \(try name(table)) SET \(assignments)\(condition)", sorted.map { argument($0.value) } + arguments)
            return db.changesCount
        }
    }

    func delete(_ table: String, where conditions: Conditions) throws -> Int {
        let (condition, arguments) = try clause(conditions)
        return try writing { db in
            try db.execute(sql: "DELETE FROM \(try name(table))\(condition)", arguments)
            return db.changesCount
        }
    }
}
