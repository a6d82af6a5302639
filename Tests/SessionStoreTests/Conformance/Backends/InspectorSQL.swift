/// What every backend's ``StoreInspector`` writes alike: checked names and the `WHERE`
/// clause of ``Conditions``, with `?` for each value.
enum InspectorSQL {
    struct BadName: Error, CustomStringConvertible {
        let name: String
        var description: String { "not a plain identifier: \(name.debugDescription)" }
    }

    /// `name`, when it is a plain identifier.
    static func name(_ name: String) throws -> String {
        guard isPlainIdentifier(name) else { throw BadName(name: name) }
        return name
    }

    /// ` WHERE a = ? AND b IS NULL`, in column order, with the values of its `?`s.
    static func whereClause(_ conditions: Conditions) throws -> (String, [StoredValue]) {
        let sorted = conditions.sorted { $0.key < $1.key }
        guard !sorted.isEmpty else { return ("", []) }
        var terms: [String] = []
        var values: [StoredValue] = []
        for (column, value) in sorted {
            if value == .null {
                terms.append("\(try name(column)) IS NULL")
            } else {
                terms.append("\(try name(column)) = ?")
                values.append(value)
            }
        }
        return (" WHERE " + terms.joined(separator: " AND "), values)
    }
}
