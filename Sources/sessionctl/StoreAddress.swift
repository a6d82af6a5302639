import ArgumentParser
import Foundation
import SessionStore
import SessionStorePostgres

/// What `--db` names: an SQLite file, or a PostgreSQL database (`postgres://USER@HOST:PORT/DB`).
///
/// A PostgreSQL address never carries a password: libpq takes it from `PGPASSWORD`,
/// `PGPASSFILE` (`~/.pgpass`) or a service file (`PGSERVICE`), as `psql` does, so it does
/// not show in `ps` or a shell's history.
enum StoreAddress: Sendable {
    case file(String)
    case postgres(String)

    init(_ text: String) throws {
        guard text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") else {
            self = .file(text)
            return
        }
        guard let components = URLComponents(string: text) else {
            throw ValidationError("--db \(text.debugDescription) is not a postgres:// URI")
        }
        if components.password != nil || components.queryItems?.contains(where: { $0.name == "password" }) == true {
            throw ValidationError(
                "--db must not hold a password: give it in PGPASSWORD, ~/.pgpass (PGPASSFILE) or a service file (PGSERVICE)")
        }
        self = .postgres(text)
    }

    var isPostgres: Bool {
        if case .postgres = self { return true }
        return false
    }

    /// The address as messages show it.
    var description: String {
        switch self {
        case .file(let path): path
        case .postgres(let uri): PGConnection.redacted(uri)
        }
    }

    /// Opens the store here.
    func open(configuration: SessionStoreConfiguration) async throws -> SessionStore {
        switch self {
        case .file(let path): try await SessionStore.open(path: path, configuration: configuration)
        case .postgres(let uri): try await SessionStore.open(postgres: uri, configuration: configuration)
        }
    }

    /// A PostgreSQL address whose tables live in `schema`, created when missing: where a
    /// benchmark keeps each scenario apart from the others and from real data.
    static func postgres(_ uri: String, schema: String) throws -> String {
        let connection = try PGConnection(conninfo: uri)
        try connection.executeScript(sql: "CREATE SCHEMA IF NOT EXISTS \(schema)")
        guard var components = URLComponents(string: uri) else { return uri }
        let kept = (components.percentEncodedQuery ?? "").split(separator: "&").filter { !$0.hasPrefix("options=") }
        components.percentEncodedQuery = (kept + ["options=-csearch_path%3D\(schema)"]).joined(separator: "&")
        return components.string ?? uri
    }

    /// Drops a schema made by ``postgres(_:schema:)`` with everything in it.
    static func dropSchema(_ uri: String, schema: String) {
        guard let connection = try? PGConnection(conninfo: uri) else { return }
        try? connection.executeScript(sql: "DROP SCHEMA IF EXISTS \(schema) CASCADE")
    }
}
