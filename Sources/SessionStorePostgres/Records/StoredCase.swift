import SessionStoreCore

extension RawRepresentable where RawValue == String {
    /// The case stored as `text` in `table.column`.
    ///
    /// A value no case of this build names (a row written by another program, or edited
    /// by hand) throws SQLSTATE `XX001` (data corrupted) naming the table, column and
    /// value, which the store reports as `STORAGE.CORRUPT`, rather than reading as some
    /// other state.
    init(stored text: String, table: String, column: String) throws(PostgresError) {
        guard let value = Self(rawValue: text) else {
            throw PostgresError(
                sqlState: "XX001",
                message: "\(table).\(column) holds \(text.debugDescriptionPrefix), which is not a \(column) this build knows")
        }
        self = value
    }
}
