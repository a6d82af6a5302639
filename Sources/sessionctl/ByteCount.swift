/// Sizes as a person reads them, for text output; JSON keeps whole bytes.
enum ByteCount {
    /// `bytes` in B, KiB, MiB, GiB or TiB: one decimal below 100 of the unit, none above
    /// (`512 B`, `4.0 KiB`, `1.5 MiB`, `340 MiB`).
    static func human(_ bytes: Int64) -> String {
        guard bytes >= 1024 || bytes <= -1024 else { return "\(bytes) B" }
        var value = Double(bytes)
        var unit = "B"
        for next in ["KiB", "MiB", "GiB", "TiB"] where abs(value) >= 1024 {
            value /= 1024
            unit = next
        }
        let digits = abs(value) < 100 ? 1 : 0
        return "\(formatted(value, digits: digits)) \(unit)"
    }

    /// `value` rounded to `digits` decimals (0 or 1), without Foundation's locale.
    private static func formatted(_ value: Double, digits: Int) -> String {
        guard digits > 0 else { return "\(Int64(value.rounded()))" }
        let tenths = Int64((value * 10).rounded())
        let sign = tenths < 0 ? "-" : ""
        return "\(sign)\(abs(tenths) / 10).\(abs(tenths) % 10)"
    }
}
