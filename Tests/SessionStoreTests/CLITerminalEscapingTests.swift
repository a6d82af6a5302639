import Foundation
import Testing

/// `sessionctl` in text mode prints what the store holds with every control, format and
/// separator character escaped (`\u{1B}`), so a stored value never drives the terminal;
/// JSON keeps the value exact.
@Suite struct CLITerminalEscapingTests {
    /// Sets the window title, then rings the bell: what a reason may try.
    static let titleSequence = "\u{1B}]0;pwned\u{07}"
    /// Right-to-left override, zero-width space, C1 CSI, DEL, a newline and a tab.
    static let hiddenCharacters = "a\u{202E}b\u{200B}c\u{9B}d\u{7F}e\nf\tg"

    @Test func storedValuesAreEscapedInEveryTextCommand() async throws {
        let db = CLIDatabase()
        let key = try await db.open(["--user", "ada"])
        #expect(try await db.run(["details", "set", key, "note=\(Self.hiddenCharacters)"]).status == 0)
        #expect(try await db.run(["conf", "set", key, "k=\(Self.titleSequence)"]).status == 0)
        #expect(try await db.run(["exec", "create", key, "--statement", Self.titleSequence]).status == 0)
        #expect(try await db.run(["close", key, "--reason", Self.titleSequence]).status == 0)

        for command in [["events"], ["get", key], ["exec", "list", key], ["top", "--once"]] {
            let result = try await db.run(command)
            #expect(result.status == 0, "\(command): \(result.stderr)")
            let unsafe = result.stdout.unicodeScalars.filter {
                $0 != "\n" && [.control, .format, .lineSeparator, .paragraphSeparator].contains($0.properties.generalCategory)
            }
            #expect(unsafe.isEmpty, "sessionctl \(command.joined(separator: " ")) printed \(unsafe.map { String($0.value, radix: 16) })")
        }
        let events = try await db.run(["events"])
        #expect(events.stdout.contains(#"\u{1B}]0;pwned\u{7}"#), "\(events.stdout)")
        let session = try await db.run(["get", key])
        #expect(session.stdout.contains(#"note=a\u{202E}b\u{200B}c\u{9B}d\u{7F}e\u{A}f\u{9}g"#), "\(session.stdout)")
        #expect(session.stdout.contains(#"k=\u{1B}]0;pwned\u{7}"#), "\(session.stdout)")

        // JSON carries the exact value.
        let closed = try await db.array(["events", "--kind", "session.ended"])
        let payload = try #require(closed.first?["payload"] as? [String: String])
        #expect(payload["reason"] == Self.titleSequence)
    }
}
