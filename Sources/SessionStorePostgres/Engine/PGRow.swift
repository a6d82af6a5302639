import CLibPQ
import Foundation

/// Calls `body` with `arguments` as libpq takes them: the count, values (text, or bytes
/// for `bytea`), lengths and formats.
func withParameters<R>(
    _ arguments: [PGValue],
    _ body: (Int32, [UnsafePointer<CChar>?], [Int32], [Int32]) -> R
) -> R {
    var texts: [ContiguousArray<CChar>?] = []
    var lengths: [Int32] = []
    var formats: [Int32] = []
    texts.reserveCapacity(arguments.count)
    for argument in arguments {
        switch argument {
        case .integer(let value):
            texts.append(ContiguousArray(String(value).utf8CString))
            lengths.append(0)
            formats.append(0)
        case .text(let value):
            texts.append(ContiguousArray(value.utf8CString))
            lengths.append(0)
            formats.append(0)
        case .bytes(let value):
            texts.append(ContiguousArray(value.map { CChar(bitPattern: $0) }))
            lengths.append(Int32(value.count))
            formats.append(1)
        case .null:
            texts.append(nil)
            lengths.append(0)
            formats.append(0)
        }
    }
    var pointers: [UnsafePointer<CChar>?] = []
    pointers.reserveCapacity(texts.count)
    func recurse(_ index: Int) -> R {
        if index == texts.count { return body(Int32(arguments.count), pointers, lengths, formats) }
        guard let value = texts[index] else {
            pointers.append(nil)
            return recurse(index + 1)
        }
        return value.withUnsafeBufferPointer { buffer in
            pointers.append(buffer.baseAddress)
            return recurse(index + 1)
        }
    }
    return recurse(0)
}

/// One row of a result, read by column index.
package struct PGRow {
    let result: OpaquePointer
    let index: Int32

    /// How many columns the result has.
    package var columnCount: Int { Int(PQnfields(result)) }

    package func isNull(_ column: Int) -> Bool { PQgetisnull(result, index, Int32(column)) == 1 }

    /// Whether the column is of an integer type (`bigint`, `integer`, `smallint`).
    package func isInteger(_ column: Int) -> Bool {
        [20, 21, 23].contains(PQftype(result, Int32(column)))
    }

    package func optionalString(_ column: Int) -> String? {
        isNull(column) ? nil : String(cString: PQgetvalue(result, index, Int32(column)))
    }

    package func string(_ column: Int) -> String { optionalString(column) ?? "" }

    package func optionalInt64(_ column: Int) -> Int64? {
        guard let text = optionalString(column) else { return nil }
        if let value = Int64(text) { return value }
        switch text {
        case "t": return 1
        case "f": return 0
        default: return Double(text).map { Int64(exactly: $0.rounded(.towardZero)) ?? 0 }
        }
    }

    package func int64(_ column: Int) -> Int64 { optionalInt64(column) ?? 0 }

    package func bool(_ column: Int) -> Bool { int64(column) != 0 }

    /// A `bytea` column (text format `\x…` hex).
    package func optionalData(_ column: Int) -> Data? {
        guard let text = optionalString(column) else { return nil }
        guard text.hasPrefix("\\x") else { return Data(text.utf8) }
        var data = Data(capacity: (text.utf8.count - 2) / 2)
        var high: UInt8?
        for byte in text.utf8.dropFirst(2) {
            let nibble: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = byte - UInt8(ascii: "A") + 10
            default: continue
            }
            if let first = high {
                data.append(first << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return data
    }
}
