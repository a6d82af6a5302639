import SessionStoreSQLite

/// A read-only connection kept open on a store's file: its `PRAGMA data_version` changes
/// exactly when another connection commits.
final class CommitCounter {
    let database: Database

    init(path: String) throws {
        database = try Database(path: path, configuration: DatabaseConfiguration(readOnly: true))
    }

    func version() throws -> Int64 {
        try database.fetchInt64(sql: "PRAGMA data_version") ?? -1
    }
}
