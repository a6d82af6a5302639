import Foundation

/// A parsed JSON value that keeps what `JSONSerialization` blurs: a boolean is not a
/// number, and a whole number is not a fraction.
indirect enum JSONValue: Decodable, Hashable, Sendable {
    case null
    case boolean(Bool)
    case integer(Int64)
    case fraction(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        // JSONDecoder reads a Bool only from true and false, and an integer only from a number.
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .boolean(flag)
        } else if let number = try? container.decode(Int64.self) {
            self = .integer(number)
        } else if let number = try? container.decode(Double.self) {
            self = .fraction(number)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let array = try? container.decode([JSONValue].self) {
            self = .array(array)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// `text` parsed as one JSON value.
    static func parse(_ text: some StringProtocol) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    var kind: String {
        switch self {
        case .null: "null"
        case .boolean: "a boolean"
        case .integer: "an integer"
        case .fraction: "a fraction"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// The shape a command's JSON output must have, declared per command and checked by
/// ``mismatches(_:at:)``.
indirect enum JSONShape: Sendable {
    case string
    /// ISO-8601 UTC text with milliseconds, as every time is printed.
    case time
    case integer
    /// An integer or a fraction.
    case number
    case boolean
    /// The key is there; its value is null or of the shape.
    case nullable(JSONShape)
    /// An object with exactly these keys: one missing or one more is a mismatch.
    case object([String: JSONShape])
    /// An object with at least these keys; others may follow.
    case openObject([String: JSONShape])
    /// An object of any keys, every value of one shape (details, a payload).
    case dictionary(JSONShape)
    case array(JSONShape)
    case oneOf([JSONShape])

    /// Where `value` departs from the shape, each as `PATH: what`; empty when it fits.
    func mismatches(_ value: JSONValue, at path: String = "$") -> [String] {
        switch (self, value) {
        case (.string, .string), (.integer, .integer), (.number, .integer), (.number, .fraction), (.boolean, .boolean):
            return []
        case (.time, .string(let text)):
            return text.wholeMatch(of: #/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/#) != nil
                ? [] : ["\(path): \(text.debugDescription) is not an ISO-8601 time with milliseconds"]
        case (.nullable, .null):
            return []
        case (.nullable(let shape), _):
            return shape.mismatches(value, at: path)
        case (.object(let fields), .object(let object)):
            let extra = Set(object.keys).subtracting(fields.keys).sorted().map { "\(path): unexpected key \($0)" }
            return extra + Self.fieldMismatches(fields, object, at: path)
        case (.openObject(let fields), .object(let object)):
            return Self.fieldMismatches(fields, object, at: path)
        case (.dictionary(let shape), .object(let object)):
            return object.keys.sorted().flatMap { key in object[key].map { shape.mismatches($0, at: "\(path).\(key)") } ?? [] }
        case (.array(let shape), .array(let array)):
            return array.enumerated().flatMap { index, element in shape.mismatches(element, at: "\(path)[\(index)]") }
        case (.oneOf(let shapes), _):
            return shapes.contains { $0.mismatches(value, at: path).isEmpty }
                ? [] : ["\(path): \(value.kind) fits none of \(shapes.map(\.name).joined(separator: ", "))"]
        default:
            return ["\(path): expected \(name), found \(value.kind)"]
        }
    }

    private static func fieldMismatches(_ fields: [String: JSONShape], _ object: [String: JSONValue], at path: String) -> [String] {
        fields.keys.sorted().flatMap { key -> [String] in
            guard let value = object[key], let shape = fields[key] else { return ["\(path): missing key \(key)"] }
            return shape.mismatches(value, at: "\(path).\(key)")
        }
    }

    var name: String {
        switch self {
        case .string: "a string"
        case .time: "a time"
        case .integer: "an integer"
        case .number: "a number"
        case .boolean: "a boolean"
        case .nullable(let shape): "\(shape.name) or null"
        case .object, .openObject, .dictionary: "an object"
        case .array: "an array"
        case .oneOf(let shapes): shapes.map(\.name).joined(separator: " or ")
        }
    }

    /// This object shape with `more` keys (exact or open as this one is).
    func adding(_ more: [String: JSONShape]) -> JSONShape {
        switch self {
        case .object(let fields): .object(fields.merging(more) { _, new in new })
        case .openObject(let fields): .openObject(fields.merging(more) { _, new in new })
        default: self
        }
    }
}

/// What a command prints with `--json`.
enum JSONOutput: Sendable {
    /// One JSON document on one line of stdout.
    case document(JSONShape)
    /// JSON Lines on stdout: every line one value of the shape, at least `atLeast` of them.
    case lines(JSONShape, atLeast: Int)
    /// JSON Lines on stderr (serve's log), stdout empty.
    case logLines(JSONShape, atLeast: Int)

    var isLines: Bool {
        if case .document = self { return false }
        return true
    }

    /// Where `stdout` and `stderr` depart from this output; empty when they fit.
    func mismatches(stdout: String, stderr: String) -> [String] {
        switch self {
        case .document(let shape):
            guard stdout.hasSuffix("\n"), stdout.split(separator: "\n", omittingEmptySubsequences: false).count == 2 else {
                return ["stdout is not one JSON document on one line: \(stdout.prefix(300).debugDescription)"]
            }
            return Self.parsed(stdout.dropLast(), shape: shape, at: "$") + Self.empty(stderr, "stderr")
        case .lines(let shape, let atLeast):
            return Self.lines(stdout, shape: shape, atLeast: atLeast, "stdout") + Self.empty(stderr, "stderr")
        case .logLines(let shape, let atLeast):
            return Self.lines(stderr, shape: shape, atLeast: atLeast, "stderr") + Self.empty(stdout, "stdout")
        }
    }

    private static func lines(_ text: String, shape: JSONShape, atLeast: Int, _ stream: String) -> [String] {
        guard text.isEmpty || text.hasSuffix("\n") else { return ["\(stream) ends in a partial line: \(text.suffix(200).debugDescription)"] }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        let count = lines.count >= atLeast ? [] : ["\(stream) has \(lines.count) lines, expected at least \(atLeast)"]
        return count + lines.enumerated().flatMap { index, line in parsed(line, shape: shape, at: "\(stream) line \(index + 1)") }
    }

    private static func parsed(_ text: Substring, shape: JSONShape, at path: String) -> [String] {
        guard let value = try? JSONValue.parse(text) else { return ["\(path): not JSON: \(text.prefix(300).debugDescription)"] }
        return shape.mismatches(value, at: path)
    }

    private static func empty(_ text: String, _ stream: String) -> [String] {
        text.isEmpty ? [] : ["\(stream) is not empty: \(text.prefix(300).debugDescription)"]
    }
}
