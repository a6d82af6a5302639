import Foundation
import SessionStorePostgres
import Synchronization

extension Backend {
    /// PostgreSQL: a schema of its own on the test process's private server
    /// (``PostgresServer``).
    static let postgres = Backend(name: "postgres") {
        let server = try await PostgresServer.shared()
        await ConnectionBudget.stores.acquire()
        do {
            return PostgresLocation(server: server, schema: try server.makeSchema())
        } catch {
            ConnectionBudget.stores.release()
            throw error
        }
    }
}

/// An empty schema on the private server; its slot of the ``ConnectionBudget`` is given
/// back when the test lets go of it.
final class PostgresLocation: StoreLocation {
    let server: PostgresServer
    let schema: String

    init(server: PostgresServer, schema: String) {
        self.server = server
        self.schema = schema
    }

    deinit {
        SharedConnection.forget(conninfo)
        ConnectionBudget.stores.release()
    }

    var conninfo: String { server.conninfo(schema: schema) }

    func open(configuration: SessionStoreConfiguration) async throws -> SessionStore {
        try await SessionStore.open(postgres: conninfo, configuration: configuration, time: .configurationClock)
    }

    var inspector: any StoreInspector { PostgresInspector(conninfo: conninfo) }
}

/// Reads and writes the schema on a connection of its own, as `psql` would.
struct PostgresInspector: StoreInspector {
    let conninfo: String

    private func name(_ name: String) throws -> String {
        try InspectorSQL.name(name)
    }

    private func argument(_ value: StoredValue) -> PGValue {
        switch value {
        case .integer(let value): .integer(value)
        case .text(let value): .text(value)
        case .null: .null
        }
    }

    /// ` WHERE a = ? AND b IS NULL`, in column order, with its arguments.
    private func clause(_ conditions: Conditions) throws -> (String, [PGValue]) {
        let (sql, values) = try InspectorSQL.whereClause(conditions)
        return (sql, values.map(argument))
    }

    private func connected<T>(_ body: (PGConnection) throws -> T) throws -> T {
        try SharedConnection.of(conninfo).use(body)
    }

    private static func value(_ row: PGRow, _ column: Int) -> StoredValue {
        if row.isNull(column) { return .null }
        if row.isInteger(column) { return .integer(row.int64(column)) }
        return .text(row.string(column))
    }

    func count(_ table: String, where conditions: Conditions) throws -> Int64 {
        let (condition, arguments) = try clause(conditions)
        return try connected { try $0.fetchInt64(sql: "SELECT count(*) FROM \(try name(table))\(condition)", arguments) ?? 0 }
    }

    func rows(_ columns: [String], of table: String, where conditions: Conditions, orderedBy: String?) throws -> [[StoredValue]] {
        let (condition, arguments) = try clause(conditions)
        let order = try orderedBy.map { " ORDER BY \(try name($0))" } ?? ""
        let selected = try columns.map(name).joined(separator: ", ")
        return try connected { db in
            try db.fetchAll(sql: "SELECT \(selected) FROM \(try name(table))\(condition)\(order)", arguments) { row in
                columns.indices.map { Self.value(row, $0) }
            }
        }
    }

    func tableCounts() throws -> [String: Int64] {
        try connected { db in
            let tables = try db.fetchAll(
                sql: "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
            ) { $0.string(0) }
            var counts: [String: Int64] = [:]
            for table in tables {
                counts[table] = try db.fetchInt64(sql: "SELECT count(*) FROM \"\(table)\"") ?? -1
            }
            return counts
        }
    }

    func columns(of table: String) throws -> [String] {
        try connected { db in
            try db.fetchAll(
                sql: """
                    SELECT column_name::text FROM information_schema.columns
                    WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position
                    """, [.text(try name(table))]) { $0.string(0) }
        }
    }

    func insert(_ table: String, _ values: [String: StoredValue]) throws -> Int64 {
        let sorted = values.sorted { $0.key < $1.key }
        let columns = try sorted.map { try name($0.key) }.joined(separator: ", ")
        let marks = Array(repeating: "?", count: sorted.count).joined(separator: ", ")
        let hasId = try self.columns(of: table).contains("id")
        return try connected { db in
            let sql = "INSERT INTO \(try name(table)) (\(columns)) VALUES (\(marks))"
            if hasId {
                return try db.fetchInt64(sql: sql + " RETURNING id", sorted.map { argument($0.value) }) ?? 0
            }
            try db.execute(sql: sql, sorted.map { argument($0.value) })
            return 0
        }
    }

    func update(_ table: String, set values: [String: StoredValue], where conditions: Conditions) throws -> Int {
        let sorted = values.sorted { $0.key < $1.key }
        let assignments = try sorted.map { "\(try name($0.key)) = ?" }.joined(separator: ", ")
        let (condition, arguments) = try clause(conditions)
        return try connected { db in
            try db.execute(
                sql: "UPDATE \(try name(table)) SET \(assignments)\(condition)", sorted.map { argument($0.value) } + arguments)
            return db.changesCount
        }
    }

    func delete(_ table: String, where conditions: Conditions) throws -> Int {
        let (condition, arguments) = try clause(conditions)
        return try connected { db in
            try db.execute(sql: "DELETE FROM \(try name(table))\(condition)", arguments)
            return db.changesCount
        }
    }
}
