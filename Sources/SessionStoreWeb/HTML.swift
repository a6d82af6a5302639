/// A fragment of HTML text, built so that every value interpolated into it is escaped
/// unless it is itself `HTML`: `HTML("<td>\(session.userId)</td>")` shows a user id
/// `<script>` as text. Stored values reach a page only through interpolation.
struct HTML: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The markup.
    private(set) var text: String

    init(stringLiteral value: String) {
        text = value
    }

    init(stringInterpolation: Interpolation) {
        text = stringInterpolation.text
    }

    /// Markup trusted as it is: for the page's own constant fragments only.
    init(trusted text: String) {
        self.text = text
    }

    var description: String { text }

    static func + (lhs: HTML, rhs: HTML) -> HTML {
        HTML(trusted: lhs.text + rhs.text)
    }

    static func += (lhs: inout HTML, rhs: HTML) {
        lhs.text += rhs.text
    }

    /// Escapes interpolated text, passes interpolated `HTML` as it is.
    struct Interpolation: StringInterpolationProtocol {
        var text = ""

        init(literalCapacity: Int, interpolationCount: Int) {
            text.reserveCapacity(literalCapacity + interpolationCount * 16)
        }

        mutating func appendLiteral(_ literal: String) {
            text += literal
        }

        mutating func appendInterpolation(_ html: HTML) {
            text += html.text
        }

        mutating func appendInterpolation(_ fragments: [HTML]) {
            for fragment in fragments { text += fragment.text }
        }

        mutating func appendInterpolation(_ value: some CustomStringConvertible) {
            text += HTML.escape(value.description)
        }

        mutating func appendInterpolation(_ value: (some CustomStringConvertible)?, default placeholder: String = "—") {
            text += HTML.escape(value.map(\.description) ?? placeholder)
        }
    }

    /// `text` with `&`, `<`, `>`, `"` and `'` written as character references: safe in
    /// element content and in quoted attribute values.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    /// `value` as a URL query component: unreserved characters as they are, every other
    /// byte percent-encoded.
    static func queryComponent(_ value: String) -> String {
        var encoded = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                encoded += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return encoded
    }

    /// A query string (`?a=1&b=2`, escaped for an attribute) of the pairs whose value is
    /// neither `nil` nor empty; empty when none is.
    static func query(_ pairs: [(String, String?)]) -> String {
        let parts = pairs.compactMap { name, value -> String? in
            guard let value, !value.isEmpty else { return nil }
            return name + "=" + queryComponent(value)
        }
        return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
    }
}
