/// Text made safe for a terminal: what `sessionctl` prints in text mode comes from the
/// store (reasons, values, statements, event payloads) and may hold bytes a terminal
/// obeys, such as `ESC ] 0 ; title BEL`, which rewrites the window title.
enum TerminalText {
    /// `text` with every character a terminal may act on, or that hides or reorders what
    /// follows, written as a Swift escape such as `\u{1B}`: the C0 controls (newline and
    /// tab included), DEL, the C1 controls, Unicode format characters (general category
    /// Cf: bidirectional overrides and isolates, zero-width characters, the byte order
    /// mark) and the line and paragraph separators. With `keepingNewlines`, `\n` is kept:
    /// for a block of lines `sessionctl` itself joined.
    static func escaped(_ text: String, keepingNewlines: Bool = false) -> String {
        guard text.unicodeScalars.contains(where: { needsEscape($0, keepingNewlines: keepingNewlines) }) else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            if needsEscape(scalar, keepingNewlines: keepingNewlines) {
                result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func needsEscape(_ scalar: Unicode.Scalar, keepingNewlines: Bool) -> Bool {
        if keepingNewlines && scalar == "\n" { return false }
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator: return true
        default: return false
        }
    }
}
