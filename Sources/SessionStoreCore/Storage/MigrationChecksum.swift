/// The fingerprint every backend records beside an applied migration, so that a later
/// edit of a shipped migration file is detected.
package enum MigrationChecksum {
    /// 64-bit FNV-1a of `sql`'s UTF-8 bytes, as 16 lower-case hex digits.
    package static func of(_ sql: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in sql.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
