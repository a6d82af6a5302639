/// Time and size arithmetic on values that configuration, arguments or a stored row can
/// put anywhere in `Int64`: it stops at the bounds instead of trapping.
extension Int64 {
    /// `self + other`, stopping at the bounds instead of trapping.
    package func addingSaturated(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    /// `self - other`, stopping at the bounds instead of trapping: a cutoff such as
    /// `now - retention` for a retention near `Int64.max`.
    package func subtractingSaturated(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other > 0 ? .min : .max) : difference
    }
}
