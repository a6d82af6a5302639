import Foundation

/// Input checks that run before anything touches storage, so bad input never leaves a
/// partial write. Each failure names the field in its code: `INVALID_ARGUMENT.USER_ID`.
struct Validator {
    let limits: SessionLimits

    /// An identifier, returned in Unicode NFC: not empty, at most `maxIdBytes` of UTF-8
    /// (after normalizing), no control characters (they would corrupt logs, tables and
    /// terminals) and no format characters (general category Cf: bidirectional overrides
    /// and isolates, zero-width characters, the byte order mark), which make two ids look
    /// alike or one look like another.
    ///
    /// One rule for every id: the store keeps and looks up the NFC form, and SQLite
    /// compares its bytes, so "josé" typed precomposed or decomposed is one user, one
    /// data source, one tag. Callers use the returned value, never the one they passed.
    func id(_ value: String, field: SessionStoreError.Code) throws(SessionStoreError) -> String {
        // ASCII text is its own NFC form: most ids skip Foundation's normalization, which
        // bridges the string, on the open path.
        let normalized = value.utf8.allSatisfy { $0 < 0x80 } ? value : value.precomposedStringWithCanonicalMapping
        guard !normalized.isEmpty else {
            throw SessionStoreError.invalidArgument(field, "\(field.fieldLabel) must not be empty")
        }
        guard normalized.utf8.count <= limits.maxIdBytes else {
            throw SessionStoreError.invalidArgument(field, "\(field.fieldLabel) is \(normalized.utf8.count) bytes; the limit is \(limits.maxIdBytes)")
        }
        for scalar in normalized.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control:
                throw SessionStoreError.invalidArgument(field, "\(field.fieldLabel) must not contain control characters")
            case .format:
                throw SessionStoreError.invalidArgument(
                    field, "\(field.fieldLabel) must not contain format characters such as U+\(String(scalar.value, radix: 16, uppercase: true))")
            default:
                continue
            }
        }
        return normalized
    }

    func optionalId(_ value: String?, field: SessionStoreError.Code) throws(SessionStoreError) -> String? {
        try value.map { (value) throws(SessionStoreError) in try id(value, field: field) }
    }

    /// A value (detail, config, reason): any text but U+0000, stored verbatim, at most
    /// `maxValueBytes`.
    func value(_ value: String, field: SessionStoreError.Code) throws(SessionStoreError) {
        guard value.utf8.count <= limits.maxValueBytes else {
            throw SessionStoreError.invalidArgument(field, "\(field.fieldLabel) is \(value.utf8.count) bytes; the limit is \(limits.maxValueBytes)")
        }
        try text(value, field: field)
    }

    /// Text the store keeps: anything but U+0000, which PostgreSQL's `text` cannot hold,
    /// so that every backend stores the same values (and refuses the same ones).
    func text(_ value: String, field: SessionStoreError.Code) throws(SessionStoreError) {
        guard !value.utf8.contains(0) else {
            throw SessionStoreError.invalidArgument(field, "\(field.fieldLabel) must not contain U+0000 (NUL)")
        }
    }

    /// Named values (details, config): each name an ``id(_:field:)``, returned in NFC,
    /// each value a ``value(_:field:)``.
    func pairs(
        _ pairs: [String: String], nameField: SessionStoreError.Code, valueField: SessionStoreError.Code
    ) throws(SessionStoreError) -> [String: String] {
        var normalized: [String: String] = [:]
        for (name, value) in pairs {
            try self.value(value, field: valueField)
            normalized[try id(name, field: nameField)] = value
        }
        return normalized
    }

    /// A session key as handed out: a UUID, returned in the stored (lower-case) form.
    /// Anything else is `INVALID_HANDLE.FORMAT`.
    func key(_ key: String) throws(SessionStoreError) -> String {
        guard SessionKey.isWellFormed(key) else {
            throw SessionStoreError(
                code: SessionStoreError.Code.handleFormat,
                message: "session key \(key.debugDescriptionPrefix) is not a UUID")
        }
        return SessionKey.lowercased(key)
    }

    /// An operation id: a UUID, returned lower-case; anything else is
    /// `INVALID_HANDLE.FORMAT`.
    func operationId(_ id: String) throws(SessionStoreError) -> String {
        guard SessionKey.isWellFormed(id) else {
            throw SessionStoreError(
                code: SessionStoreError.Code.handleFormat,
                message: "operation id \(id.debugDescriptionPrefix) is not a UUID")
        }
        return SessionKey.lowercased(id)
    }

    /// The tags of an execution or streaming query: at most `maxTagsPerExecution` of them
    /// (a repeated tag counts each time), each an identifier, returned in NFC.
    func tags(_ tags: [String]) throws(SessionStoreError) -> [String] {
        guard tags.count <= limits.maxTagsPerExecution else {
            throw SessionStoreError(
                code: SessionStoreError.Code.tagsPerExecution,
                message: "\(tags.count) tags exceed the limit of \(limits.maxTagsPerExecution)")
        }
        return try tags.map { (tag) throws(SessionStoreError) in try id(tag, field: .invalidTag) }
    }

    /// The most items one list call returns.
    static let maxListLimit = 10_000

    /// A list call's `limit`: within 1...``maxListLimit``. A negative limit is refused, not
    /// taken for "unlimited", and so is one beyond the cap: page with the call's cursor.
    func listLimit(_ limit: Int) throws(SessionStoreError) {
        guard (1...Self.maxListLimit).contains(limit) else {
            throw SessionStoreError.invalidArgument(.invalidLimit, "limit must be within 1...\(Self.maxListLimit) (got \(limit))")
        }
    }

    /// A statement or request of `bytes` bytes: at most `maxPayloadBytes`.
    func payload(_ bytes: Int, field: SessionStoreError.Code) throws(SessionStoreError) {
        guard bytes <= limits.maxPayloadBytes else {
            throw SessionStoreError.invalidArgument(field, "\(field.fieldLabel) is \(bytes) bytes; the limit is \(limits.maxPayloadBytes)")
        }
    }
}

extension String {
    /// Whether the two hold the same UTF-8 bytes: how SQLite compares ids. Swift's `==`
    /// takes canonically equivalent strings (NFC and NFD "josé") as equal, which would
    /// let the library and the file disagree about who is who.
    func hasSameBytes(as other: String) -> Bool {
        utf8.elementsEqual(other.utf8)
    }
}
