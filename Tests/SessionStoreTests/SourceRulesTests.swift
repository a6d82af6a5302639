import Foundation
import Testing

/// Rules the source tree keeps: the service layer holds no SQL and imports no storage
/// module (the SQL of the SQLite backend lives in its repository types under
/// `Sources/SessionStoreSQLite/Records/`), no source file grows past ``lineLimit`` lines,
/// and tests start processes without Foundation's `Process`.
@Suite struct SourceRulesTests {
    /// The modules above the storage seam: written once for every backend.
    static let serviceModules = ["SessionStoreCore", "SessionStoreGRPC"]

    /// The folder of the SQLite backend that holds its SQL.
    static let storageFolder = "Sources/SessionStoreSQLite/Records/"

    /// The modules a service-layer file may not import: storage backends and their C
    /// libraries.
    static let storageModules = ["SessionStoreSQLite", "CSQLite", "SessionStore"]

    /// SQL as the project writes it, in upper case. Interpolations in a literal read as
    /// `_`, so `UPDATE \(table) SET` is found too.
    static let sqlKeywords = [
        #"SELECT"#, #"INSERT\s+(OR\s+[A-Z]+\s+)?INTO"#, #"UPDATE\s+\S+\s+SET"#, #"DELETE\s+FROM"#, #"PRAGMA"#,
        #"CREATE\s+(TEMP\s+|TEMPORARY\s+|UNIQUE\s+)?(TABLE|INDEX|VIEW|TRIGGER)"#, #"DROP\s+(TABLE|INDEX|VIEW|TRIGGER)"#,
        #"ALTER\s+TABLE"#, #"WITH\s+RECURSIVE"#,
    ]

    /// The most lines a source file may have.
    static let lineLimit = 400

    /// Generated files, exempt from the line limit.
    static let generatedSuffixes = [".pb.swift", ".grpc.swift"]

    @Test func theServiceLayerHoldsNoSQL() throws {
        var misplaced: [String] = []
        var serviceFiles = 0
        for module in Self.serviceModules {
            let files = try SourceTree.swiftFiles(module: module)
            serviceFiles += files.count
            for file in files {
                misplaced += try Self.sqlInStringLiterals(of: try SourceTree.text(file)).map { "\(file):\($0.line): \($0.keyword)" }
            }
        }
        #expect(serviceFiles > 80, "found only \(serviceFiles) Swift files in \(Self.serviceModules); is the package root right?")
        // The scanner must see the SQL that is where it belongs, or it proves nothing.
        var storageStatements = 0
        for file in try SourceTree.swiftFiles(module: "SessionStoreSQLite") where file.hasPrefix(Self.storageFolder) {
            storageStatements += try Self.sqlInStringLiterals(of: try SourceTree.text(file)).count
        }
        #expect(storageStatements > 50, "found only \(storageStatements) SQL strings in \(Self.storageFolder)")
        #expect(
            misplaced.isEmpty,
            """
            \(misplaced.count) string literals of the service layer hold SQL; move the queries into a repository \
            of the backend (\(Self.storageFolder)) behind a method of the storage seam:
            \(misplaced.joined(separator: "\n"))
            """)
    }

    /// The compiler enforces the seam through the targets' dependencies; this says so by
    /// name, and catches an import that a later dependency would allow.
    @Test func theServiceLayerImportsNoStorageModule() throws {
        let importPattern = try NSRegularExpression(pattern: #"^\s*(@_exported\s+)?import\s+(\w+)"#, options: .anchorsMatchLines)
        var found: [String] = []
        var imports = 0
        for module in Self.serviceModules {
            for file in try SourceTree.swiftFiles(module: module) {
                let text = try SourceTree.text(file)
                let range = NSRange(text.startIndex..., in: text)
                for match in importPattern.matches(in: text, range: range) {
                    guard let nameRange = Range(match.range(at: 2), in: text) else { continue }
                    imports += 1
                    let name = String(text[nameRange])
                    if Self.storageModules.contains(name) { found.append("\(file): import \(name)") }
                }
            }
        }
        #expect(imports > 100, "found only \(imports) imports in the service layer")
        #expect(found.isEmpty, "the service layer imports a storage module:\n\(found.joined(separator: "\n"))")
    }

    /// The conformance suites run on every backend, so they hold no SQL and import no
    /// backend: they reach the store through the public API and read it through a
    /// ``StoreInspector``. Only `Conformance/Backends/` knows a backend.
    @Test func conformanceSuitesHoldNoSQLAndImportNoBackend() throws {
        let folder = SourceTree.packageRoot.appendingPathComponent("Tests/SessionStoreTests/Conformance").path
        guard let enumerator = FileManager.default.enumerator(atPath: folder) else {
            Issue.record("cannot list \(folder)")
            return
        }
        var suites = 0
        var found: [String] = []
        while let relative = enumerator.nextObject() as? String {
            guard relative.hasSuffix(".swift"), !relative.hasPrefix("Backends/") else { continue }
            let text = try String(contentsOfFile: folder + "/" + relative, encoding: .utf8)
            if !relative.hasPrefix("Support/") { suites += 1 }
            found += try Self.sqlInStringLiterals(of: text).map { "Conformance/\(relative):\($0.line): \($0.keyword)" }
            for line in text.split(separator: "\n") where line.hasPrefix("import ") {
                let module = line.dropFirst("import ".count).trimmingCharacters(in: .whitespaces)
                if module == "SessionStoreSQLite" || module == "CSQLite" { found.append("Conformance/\(relative): \(line)") }
            }
        }
        #expect(suites >= Self.conformanceSuites, "found \(suites) conformance suites, expected at least \(Self.conformanceSuites)")
        #expect(found.isEmpty, "conformance suites name a backend or hold SQL:\n\(found.joined(separator: "\n"))")
    }

    /// The conformance suites there are; the rule above fails when one goes missing.
    static let conformanceSuites = 36

    /// Foundation's `Process.run()` on Linux copies each `/proc/self/fd` entry as a
    /// 256-byte record and reads past glibc's directory buffer once ~1,350 descriptors
    /// are open, which the parallel suite reaches: it crashed the test process. Tests start
    /// processes through swift-subprocess (``Command``, ``SpawnedSessionctl``).
    @Test func testsStartNoFoundationProcess() throws {
        let pattern = try NSRegularExpression(pattern: #"\bProcess\(\)|Foundation\.Process\b|:\s*Process\b"#)
        var found: [String] = []
        let tests = SourceTree.packageRoot.appendingPathComponent("Tests").path
        guard let enumerator = FileManager.default.enumerator(atPath: tests) else {
            Issue.record("cannot list \(tests)")
            return
        }
        var scanned = 0
        while let relative = enumerator.nextObject() as? String {
            guard relative.hasSuffix(".swift"), !relative.hasSuffix("SourceRulesTests.swift") else { continue }
            scanned += 1
            let text = try String(contentsOfFile: tests + "/" + relative, encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where !line.trimmingCharacters(in: .whitespaces).hasPrefix("//") {
                let line = String(line)
                if pattern.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil {
                    found.append("Tests/\(relative):\(number + 1): \(line.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
        #expect(scanned > 50, "found only \(scanned) Swift files under Tests/")
        #expect(found.isEmpty, "tests start a Foundation Process:\n\(found.joined(separator: "\n"))")
    }

    @Test func noSourceFileIsLongerThanTheLimit() throws {
        let sources = SourceTree.packageRoot.appendingPathComponent("Sources").path
        let modules = try FileManager.default.contentsOfDirectory(atPath: sources).sorted()
        var files: [String] = []
        for module in modules {
            files += try SourceTree.swiftFiles(module: module)
        }
        #expect(files.count > 50, "found only \(files.count) Swift files under Sources/")
        var tooLong: [String] = []
        for file in files where !Self.generatedSuffixes.contains(where: { file.hasSuffix($0) }) {
            let lines = Self.lineCount(try SourceTree.text(file))
            if lines > Self.lineLimit { tooLong.append("\(file): \(lines) lines") }
        }
        #expect(
            tooLong.isEmpty,
            "\(tooLong.count) source files have more than \(Self.lineLimit) lines:\n\(tooLong.joined(separator: "\n"))")
    }

    @Test func theScannerReadsLiteralsNotComments() throws {
        let source = #"""
            /// let e = try await store.createExecution(statement: "SELECT 1")
            // "DELETE FROM sessions"
            /* "PRAGMA journal_mode" /* nested */ "INSERT INTO t" */
            let label = "select a session"
            let query = """
                WITH RECURSIVE tree(id) AS (VALUES (1))
                UPDATE \(table) SET x = 1
                """
            let raw = #"CREATE INDEX "quoted\" one"#
            let nested = "\(f("SELECT 2"))"
            """#
        let found = try Self.sqlInStringLiterals(of: source).map { "\($0.line): \($0.keyword)" }
        #expect(found == ["6: WITH RECURSIVE", "7: UPDATE _ SET", "9: CREATE INDEX", "10: SELECT"])
    }

    /// The SQL keywords in the string literals of `source` (comments skipped), each with
    /// the line it is on.
    static func sqlInStringLiterals(of source: String) throws -> [(line: Int, keyword: String)] {
        let sqlPattern = try NSRegularExpression(pattern: #"\b("# + sqlKeywords.joined(separator: "|") + #")\b"#)
        var lexer = SwiftLiterals(source)
        lexer.scanCode(toClosingParenthesis: false)
        var found: [(line: Int, keyword: String)] = []
        for literal in lexer.literals {
            let text = literal.text as NSString
            for match in sqlPattern.matches(in: literal.text, range: NSRange(location: 0, length: text.length)) {
                let keyword = text.substring(with: match.range).split(whereSeparator: \.isWhitespace).joined(separator: " ")
                found.append((literal.lines[match.range.location], keyword))
            }
        }
        return found.sorted { $0.line < $1.line }
    }

    /// Lines as `wc -l` counts them, plus a last line without a newline.
    static func lineCount(_ text: String) -> Int {
        let newlines = text.utf8.lazy.filter { $0 == UInt8(ascii: "\n") }.count
        return newlines + (text.isEmpty || text.hasSuffix("\n") ? 0 : 1)
    }
}

/// The string literals of a Swift source file — plain, multi-line, raw and those nested
/// in interpolations — with comments skipped.
private struct SwiftLiterals {
    /// A literal's text, each interpolation read as `_`, and the source line of each of
    /// its UTF-16 code units (the offsets `NSRegularExpression` reports).
    struct Literal {
        var text = ""
        var lines: [Int] = []

        mutating func append(_ character: Character, line: Int) {
            text.append(character)
            lines += Array(repeating: line, count: character.utf16.count)
        }
    }

    private let characters: [Character]
    private var index = 0
    private var line = 1
    private(set) var literals: [Literal] = []

    init(_ source: String) {
        characters = Array(source)
    }

    private func character(at offset: Int) -> Character? {
        index + offset < characters.count ? characters[index + offset] : nil
    }

    private mutating func advance(_ count: Int = 1) {
        for _ in 0..<count where index < characters.count {
            if characters[index].isNewline { line += 1 }
            index += 1
        }
    }

    /// Reads code up to the end, or up to the parenthesis closing an interpolation.
    mutating func scanCode(toClosingParenthesis: Bool) {
        var depth = 0
        while let current = character(at: 0) {
            if current == "/", character(at: 1) == "/" {
                while let next = character(at: 0), !next.isNewline { advance() }
            } else if current == "/", character(at: 1) == "*" {
                skipBlockComment()
            } else if current == "#" || current == "\"" {
                var hashes = 0
                while character(at: hashes) == "#" { hashes += 1 }
                if character(at: hashes) == "\"" {
                    advance(hashes)
                    scanString(hashes: hashes)
                } else {
                    advance(max(hashes, 1))
                }
            } else if toClosingParenthesis, current == "(" {
                depth += 1
                advance()
            } else if toClosingParenthesis, current == ")" {
                advance()
                if depth == 0 { return }
                depth -= 1
            } else {
                advance()
            }
        }
    }

    private mutating func skipBlockComment() {
        var depth = 0
        while let current = character(at: 0) {
            if current == "/", character(at: 1) == "*" {
                depth += 1
                advance(2)
            } else if current == "*", character(at: 1) == "/" {
                depth -= 1
                advance(2)
                if depth == 0 { return }
            } else {
                advance()
            }
        }
    }

    /// Whether `count` characters from `offset` on are `#`.
    private func hashes(_ count: Int, at offset: Int) -> Bool {
        (0..<count).allSatisfy { character(at: offset + $0) == "#" }
    }

    /// Reads a literal from its opening quote, its `hashes` already read.
    private mutating func scanString(hashes: Int) {
        let isMultiline = character(at: 1) == "\"" && character(at: 2) == "\""
        let quotes = isMultiline ? 3 : 1
        advance(quotes)
        var literal = Literal()
        while let current = character(at: 0) {
            if current == "\"", (0..<quotes).allSatisfy({ character(at: $0) == "\"" }), self.hashes(hashes, at: quotes) {
                advance(quotes + hashes)
                break
            }
            if current == "\\", self.hashes(hashes, at: 1) {
                advance(1 + hashes)
                if character(at: 0) == "(" {
                    literal.append("_", line: line)
                    advance()
                    scanCode(toClosingParenthesis: true)
                } else if let escaped = character(at: 0) {
                    literal.append(escaped.isNewline ? " " : escaped, line: line)
                    advance()
                }
                continue
            }
            if !isMultiline, current.isNewline { break }
            literal.append(current, line: line)
            advance()
        }
        literals.append(literal)
    }
}
