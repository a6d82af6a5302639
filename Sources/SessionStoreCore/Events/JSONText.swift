import Foundation

/// JSON for event payloads: an object of string values, written without Foundation's
/// encoder on the write path.
package enum JSONText {
    package static func object(_ fields: [String: String]) -> String {
        guard !fields.isEmpty else { return "{}" }
        var text = "{"
        text.reserveCapacity(fields.reduce(2) { $0 + $1.key.utf8.count + $1.value.utf8.count + 6 })
        for (index, name) in fields.keys.sorted().enumerated() {
            if index > 0 { text += "," }
            appendString(name, to: &text)
            text += ":"
            appendString(fields[name] ?? "", to: &text)
        }
        return text + "}"
    }

    package static func appendString(_ value: String, to text: inout String) {
        text += "\""
        // Most values (ids, numbers, states) need no escaping: append them whole.
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            text += value
            text += "\""
            return
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case _ where scalar.value < 0x20:
                text += String(format: "\\u%04x", scalar.value)
            default:
                text.unicodeScalars.append(scalar)
            }
        }
        text += "\""
    }

    package static func array(_ values: [String]) -> String {
        var text = "["
        for (index, value) in values.enumerated() {
            if index > 0 { text += "," }
            appendString(value, to: &text)
        }
        return text + "]"
    }

    package static func stringArray(_ text: String) -> [String] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String]) ?? []
    }

    package static func stringObject(_ text: String) -> [String: String] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            return [:]
        }
        return object.compactMapValues { value in
            switch value {
            case let string as String: string
            case let number as NSNumber: number.stringValue
            default: nil
            }
        }
    }
}
