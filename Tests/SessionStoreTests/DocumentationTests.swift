import Foundation
import Testing

/// Every public symbol of the library modules has a `///` doc comment.
@Suite struct DocumentationTests {
    /// The modules whose public declarations must be documented.
    static let modules = ["SessionStore", "SessionStoreSQLite"]

    /// Codable witnesses, documented by the protocol.
    static let exceptions = ["public init(from decoder:", "public func encode(to encoder:"]

    @Test func everyPublicDeclarationHasADocComment() throws {
        var undocumented: [String] = []
        var declarations = 0
        for module in Self.modules {
            let files = try SourceTree.swiftFiles(module: module)
            #expect(!files.isEmpty, "no Swift files in Sources/\(module)")
            for file in files {
                let text = try SourceTree.text(file)
                let lines = text.components(separatedBy: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                for (index, line) in lines.enumerated() {
                    let declaration = Self.droppingAttributes(line)
                    guard declaration.hasPrefix("public ") else { continue }
                    guard !Self.exceptions.contains(where: { declaration.hasPrefix($0) }) else { continue }
                    declarations += 1
                    var previous = index - 1
                    while previous >= 0, lines[previous].hasPrefix("@") { previous -= 1 }
                    if previous < 0 || !lines[previous].hasPrefix("///") {
                        undocumented.append("\(file):\(index + 1): \(line)")
                    }
                }
            }
        }
        #expect(declarations > 100, "found only \(declarations) public declarations; is the package root right?")
        #expect(
            undocumented.isEmpty,
            "\(undocumented.count) public declarations lack a /// doc comment:\n\(undocumented.joined(separator: "\n"))")
    }

    /// `line` without leading attributes such as `@discardableResult` or `@available(macOS 15, *)`.
    static func droppingAttributes(_ line: String) -> String {
        var rest = Substring(line)
        while rest.hasPrefix("@") {
            var index = rest.index(after: rest.startIndex)
            while index < rest.endIndex, rest[index].isLetter || rest[index].isNumber || rest[index] == "_" {
                index = rest.index(after: index)
            }
            if index < rest.endIndex, rest[index] == "(" {
                var depth = 0
                while index < rest.endIndex {
                    if rest[index] == "(" { depth += 1 }
                    if rest[index] == ")" { depth -= 1 }
                    index = rest.index(after: index)
                    if depth == 0 { break }
                }
            }
            rest = rest[index...].drop(while: { $0 == " " || $0 == "\t" })
        }
        return String(rest)
    }
}
