@_exported import SessionStoreCore

extension SessionStore {
    /// Opens (migrating if needed) a store on a PostgreSQL server.
    ///
    /// `conninfo` is what `psql` takes: a URI (`postgres://app@db1,db2/sessions?target_session_attrs=read-write`)
    /// or `key=value` words (`host=db user=app dbname=sessions`). What it leaves out comes
    /// from the `PG*` environment variables (`PGHOST`, `PGUSER`, `PGPASSWORD`, `PGSERVICE`, …)
    /// and `~/.pgpass`, so a password never needs to be in the string. The tables are
    /// created in the first schema of the connection's `search_path`; several services on
    /// one database keep their stores apart with `options=-csearch_path=NAME`.
    ///
    /// Time is the database server's (``PostgresTime/database``): hosts whose clocks
    /// disagree expire a session at the same instant. `time: .configurationClock` makes
    /// the configuration's clock decide instead, for tests that move time by hand.
    ///
    /// ```swift
    /// let store = try await SessionStore.open(postgres: "postgres://sessions@db.internal/sessions")
    /// let session = try await store.openSession(userId: "ada", sessionId: "notebook-1")
    /// ```
    ///
    /// - Throws: `STORAGE.UNAVAILABLE` when the server cannot be reached,
    ///   `STORAGE.CANTOPEN` when the connection has no schema to create the tables in,
    ///   `SCHEMA.*` when the schema was migrated by another build.
    public static func open(
        postgres conninfo: String, configuration: SessionStoreConfiguration = SessionStoreConfiguration(),
        time: PostgresTime = .database
    ) async throws -> SessionStore {
        try await open(configuration: configuration) {
            try await PostgresBackend.open(conninfo: conninfo, configuration: configuration, time: time)
        }
    }
}
