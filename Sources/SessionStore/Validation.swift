import Foundation

/// Input checks that run before anything touches storage, so bad input never leaves a
/// partial write. Each failure names the field in its code: `INVALID_ARGUMENT.USER_ID`.
struct Validator {
    let limits: SessionLimits

    /// An identifier: not empty, at most `maxIdBytes` of UTF-8, no control characters
    /// (they would corrupt logs, tables and terminals).
    func id(_ value: String, field: String) throws(SessionStoreError) {
        guard !value.isEmpty else {
            throw .invalidArgument(field, "\(label(field)) must not be empty")
        }
        guard value.utf8.count <= limits.maxIdBytes else {
            throw .invalidArgument(field, "\(label(field)) is \(value.utf8.count) bytes; the limit is \(limits.maxIdBytes)")
        }
        guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalidArgument(field, "\(label(field)) must not contain control characters")
        }
    }

    func optionalId(_ value: String?, field: String) throws(SessionStoreError) {
        if let value { try id(value, field: field) }
    }

    /// A value (detail, config): any text, stored verbatim, at most `maxValueBytes`.
    func value(_ value: String, field: String) throws(SessionStoreError) {
        guard value.utf8.count <= limits.maxValueBytes else {
            throw .invalidArgument(field, "\(label(field)) is \(value.utf8.count) bytes; the limit is \(limits.maxValueBytes)")
        }
    }

    func pairs(_ pairs: [String: String], nameField: String, valueField: String) throws(SessionStoreError) {
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

    /// A statement or request of `bytes` bytes: at most `maxPayloadBytes`.
    func payload(_ bytes: Int, field: String) throws(SessionStoreError) {
        guard bytes <= limits.maxPayloadBytes else {
            throw .invalidArgument(field, "\(label(field)) is \(bytes) bytes; the limit is \(limits.maxPayloadBytes)")
        }
    }

    private func label(_ field: String) -> String {
        field.lowercased().replacingOccurrences(of: "_", with: " ")
    }
}

/// Session keys: 128 bits from the system's secure generator, written as a lower-case
/// UUID.
enum SessionKey {
    static func make() -> String {
        var words: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &words) { bytes in
            // One call for all 16 bytes; arc4random_buf draws from the kernel's CSPRNG.
            if let base = bytes.baseAddress { arc4random_buf(base, bytes.count) }
        }
        let (high, low) = words
        let hex = String(high, radix: 16).leftPadded(to: 16) + String(low, radix: 16).leftPadded(to: 16)
        let characters = Array(hex)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }.joined(separator: "-")
    }

    /// The stored form of a well-formed key: lower-case, without copying one that is.
    static func lowercased(_ key: String) -> String {
        key.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x46 }) ? key.lowercased() : key
    }

    static func isWellFormed(_ key: String) -> Bool {
        let utf8 = key.utf8
        guard utf8.count == 36 else { return false }
        return utf8.withContiguousStorageIfAvailable(isWellFormed) ?? isWellFormed(Array(utf8).withUnsafeBufferPointer { $0 })
    }

    private static func isWellFormed(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        for index in 0..<36 {
            let byte = bytes[index]
            switch index {
            case 8, 13, 18, 23:
                guard byte == UInt8(ascii: "-") else { return false }
            default:
                guard (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66) || (byte >= 0x41 && byte <= 0x46)
                else { return false }
            }
        }
        return true
    }
}

extension String {
    func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
