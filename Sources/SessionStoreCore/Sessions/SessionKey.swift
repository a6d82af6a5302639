import Foundation

/// Session keys and generated operation ids: UUIDs in the version 7 layout of RFC 9562,
/// written in lower case — a 48-bit Unix time in milliseconds followed by 74 bits from
/// the system's secure generator.
///
/// The random bits make a key unguessable; the time prefix makes new keys sort after
/// older ones, so the unique index on `sessions.key` and the event log's index by
/// session grow at their right edge instead of dirtying a random page per insert — a
/// group commit of 64 opens writes about half the pages it would with random keys.
///
/// So a key holds 74 random bits, not 128: the comment on `sessions.key` in migration
/// 0001 ("128 random bits") predates the time prefix and stays as shipped, because each
/// migration's text is checksummed in `schema_migrations` and an edit would refuse every
/// existing file.
package enum SessionKey {
    static func make() -> String {
        var random: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &random) { bytes in
            // One call for all 16 bytes; arc4random_buf draws from the kernel's CSPRNG.
            if let base = bytes.baseAddress { arc4random_buf(base, bytes.count) }
        }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let milliseconds = UInt64(max(0, now.tv_sec)) &* 1000 &+ UInt64(max(0, now.tv_nsec / 1_000_000))
        // time (48) | version 7 (4) | random (12) ; variant 10 (2) | random (62)
        let high = (milliseconds & 0xFFFF_FFFF_FFFF) << 16 | 0x7000 | (random.0 & 0x0FFF)
        let low = 0x8000_0000_0000_0000 | (random.1 & 0x3FFF_FFFF_FFFF_FFFF)
        return format(high: high, low: low)
    }

    /// `high` and `low` as the 36 characters of a lower-case UUID.
    package static func format(high: UInt64, low: UInt64) -> String {
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: 36) { buffer in
            var position = 0
            func put(_ word: UInt64, nibbles: Range<Int>) {
                for nibble in nibbles {
                    let value = Int((word >> UInt64(60 - 4 * nibble)) & 0xF)
                    buffer[position] = digits.utf8Start[value]
                    position += 1
                }
            }
            func dash() {
                buffer[position] = UInt8(ascii: "-")
                position += 1
            }
            put(high, nibbles: 0..<8)
            dash()
            put(high, nibbles: 8..<12)
            dash()
            put(high, nibbles: 12..<16)
            dash()
            put(low, nibbles: 0..<4)
            dash()
            put(low, nibbles: 4..<16)
            return position
        }
    }

    /// The stored form of a well-formed key: lower-case, without copying one that is.
    static func lowercased(_ key: String) -> String {
        key.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x46 }) ? key.lowercased() : key
    }

    static func isWellFormed(_ key: String) -> Bool {
        let utf8 = key.utf8
        guard utf8.count == 36 else { return false }
        return utf8.withContiguousStorageIfAvailable(isWellFormed) ?? Array(utf8).withUnsafeBufferPointer(isWellFormed)
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
