import Foundation

/// Writes command results as text or JSON, and errors to stderr.
struct Output {
    let json: Bool

    func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }

    /// Writes `line` and a newline to stdout at once, in one write, not into the C
    /// library's buffer (which holds a few KiB before writing to a pipe or a file): for
    /// commands that print as things happen, so a reader sees each line as it happens and
    /// a SIGTERM loses none. ``printJSON(_:)`` writes the same way.
    ///
    /// Every line of text output goes through here (or ``printText(_:)``), escaped with
    /// ``TerminalText/escaped(_:keepingNewlines:)``: a stored value never reaches the
    /// terminal as a control sequence.
    static func printLine(_ line: String) {
        FileHandle.standardOutput.write(Data((TerminalText.escaped(line) + "\n").utf8))
    }

    /// Writes a block of lines `sessionctl` joined (a `top` frame, the metrics
    /// exposition) as it is, in one write, escaped but for its newlines.
    static func printText(_ text: String) {
        FileHandle.standardOutput.write(Data(TerminalText.escaped(text, keepingNewlines: true).utf8))
    }

    func printError(code: String, message: String) {
        let line: String
        if json {
            let object = ["error": ["code": code, "message": message]]
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            line = String(decoding: data, as: UTF8.self)
        } else {
            line = TerminalText.escaped("error: \(code): \(message)")
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// One line on stderr about what the command did besides its result, such as
    /// `created PATH`: `NAME VALUE`, or `{"NAME":"VALUE"}` with --json.
    func printNotice(_ name: String, _ value: String) {
        let line: String
        if json {
            let data = (try? JSONSerialization.data(withJSONObject: [name: value], options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            line = String(decoding: data, as: UTF8.self)
        } else {
            line = TerminalText.escaped("\(name) \(value)")
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Left-aligned columns under a header, for people.
    func printTable(_ header: [String], _ rows: [[String]], write: (String) -> Void = Output.printLine) {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        write(line(header))
        for row in rows {
            write(line(row))
        }
    }
}
