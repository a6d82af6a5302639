import Foundation

/// Input checks that run before anything touches storage, so bad input never leaves a
/// partial write. Each failure names the field in its code: `INVALID_ARGUMENT.USER_ID`.
struct Validator {
    let limits: SessionLimits

    /// An identifier: not empty, at most `maxIdBytes` of UTF-8, no control characters
    /// (they would corrupt logs, tables and terminals).
    func id(_ value: String, field: SessionStoreError.Code) throws(SessionStoreError) {
        guard !value.isEmpty else {
            throw SessionStoreError.invalidArgument(field, "\(field.fieldLabel) must not be empty")
        }
        guard value.utf8.count <= limits.maxIdBytes else {
            throw SessionStoreError.invalidArgument(field, "\(field.fieldLabel) is \(value.utf8.count) bytes; the limit is \(limits.maxIdBytes)")
        }
        guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw SessionStoreError.invalidArgument(field, "\(field.fieldLabel) must not contain control characters")
        }
    }

    func optionalId(_ value: String?, field: SessionStoreError.Code) throws(SessionStoreError) {
        if let value { try id(value, field: field) }
    }

    /// A value (detail, config): any text, stored verbatim, at most `maxValueBytes`.
    func value(_ value: String, field: SessionStoreError.Code) throws(SessionStoreError) {
        guard value.utf8.count <= limits.maxValueBytes else {
            throw SessionStoreError.invalidArgument(field, "\(field.fieldLabel) is \(value.utf8.count) bytes; the limit is \(limits.maxValueBytes)")
        }
    }

    func pairs(_ pairs: [String: String], nameField: SessionStoreError.Code, valueField: SessionStoreError.Code) throws(SessionStoreError) {
        for (name, value) in pairs {
            try id(name, field: nameField)
            try self.value(value, field: valueField)
        }
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
    /// (a repeated tag counts each time), each an identifier.
    func tags(_ tags: [String]) throws(SessionStoreError) {
        guard tags.count <= limits.maxTagsPerExecution else {
            throw SessionStoreError(
                code: SessionStoreError.Code.tagsPerExecution,
                message: "\(tags.count) tags exceed the limit of \(limits.maxTagsPerExecution)")
        }
        for tag in tags { try id(tag, field: .invalidTag) }
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
