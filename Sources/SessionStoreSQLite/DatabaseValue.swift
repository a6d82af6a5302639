import Foundation

/// One SQLite value: the five storage classes of <https://www.sqlite.org/datatype3.html>.
public enum DatabaseValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob(Data)

    /// Wraps an optional Swift value, `nil` becoming `.null`.
    public init(_ value: (some DatabaseValueConvertible)?) {
        self = value?.databaseValue ?? .null
    }

    /// Whether this is SQL `NULL`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

extension DatabaseValue: ExpressibleByNilLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByBooleanLiteral
{
    /// `nil` as `NULL`.
    public init(nilLiteral: ()) { self = .null }
    /// An integer literal as an `INTEGER`.
    public init(integerLiteral value: Int64) { self = .integer(value) }
    /// A floating-point literal as a `REAL`.
    public init(floatLiteral value: Double) { self = .real(value) }
    /// A string literal as `TEXT`.
    public init(stringLiteral value: String) { self = .text(value) }
    /// A Boolean literal as the `INTEGER` 1 or 0.
    public init(booleanLiteral value: Bool) { self = .integer(value ? 1 : 0) }
}

/// A Swift type that can be stored as a ``DatabaseValue``.
public protocol DatabaseValueConvertible {
    var databaseValue: DatabaseValue { get }
}

extension Int64: DatabaseValueConvertible {
    /// The integer as an `INTEGER`.
    public var databaseValue: DatabaseValue { .integer(self) }
}

extension Int: DatabaseValueConvertible {
    /// The integer as an `INTEGER`.
    public var databaseValue: DatabaseValue { .integer(Int64(self)) }
}

extension Bool: DatabaseValueConvertible {
    /// The Boolean as the `INTEGER` 1 or 0.
    public var databaseValue: DatabaseValue { .integer(self ? 1 : 0) }
}

extension Double: DatabaseValueConvertible {
    /// The number as a `REAL`.
    public var databaseValue: DatabaseValue { .real(self) }
}

extension String: DatabaseValueConvertible {
    /// The string as `TEXT`.
    public var databaseValue: DatabaseValue { .text(self) }
}

extension Data: DatabaseValueConvertible {
    /// The bytes as a `BLOB`.
    public var databaseValue: DatabaseValue { .blob(self) }
}

extension DatabaseValue: DatabaseValueConvertible {
    /// The value itself.
    public var databaseValue: DatabaseValue { self }
}
