import Foundation

// Writes a Swift file declaring `embeddedMigrations`, one `Migration` per SQL file given.
// Usage: MigrationEmbedder OUTPUT.swift NNNN_description.sql...
// A file whose name is not NNNN_description.sql fails the build, naming it.

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    exit(1)
}

/// The fewest `#` that delimit `text` as a raw string literal: neither `"""#…` nor `\#…`
/// may occur in it with that many hashes.
func rawDelimiter(for text: String) -> String {
    var hashes = "#"
    while text.contains("\"\"\"" + hashes) || text.contains("\\" + hashes) {
        hashes += "#"
    }
    return hashes
}

let arguments = CommandLine.arguments.dropFirst()
guard let outputPath = arguments.first else {
    fail("usage: MigrationEmbedder OUTPUT.swift FILE.sql...")
}

var entries: [String] = []
var seenVersions: Set<Int> = []
for path in arguments.dropFirst() {
    let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    let parts = name.split(separator: "_", maxSplits: 1)
    guard parts.count == 2, parts[0].count == 4, let version = Int(parts[0]), version > 0 else {
        fail("\(path): migration files are named NNNN_description.sql")
    }
    guard parts[1].allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }) else {
        fail("\(path): the description may hold lower-case letters, digits and underscores only")
    }
    guard seenVersions.insert(version).inserted else {
        fail("\(path): another migration has version \(version)")
    }
    guard let data = FileManager.default.contents(atPath: path), let sql = String(data: data, encoding: .utf8) else {
        fail("\(path): cannot read it as UTF-8")
    }
    let hashes = rawDelimiter(for: sql)
    entries.append("""
            Migration(
                version: \(version),
                name: "\(parts[1])",
                sql: \(hashes)\"\"\"
        \(sql)
        \"\"\"\(hashes)),
        """)
}

let source = """
    // Generated at build time from Migrations/*.sql. Do not edit.

    let embeddedMigrations: [Migration] = [
    \(entries.joined(separator: "\n"))
    ]

    """
do {
    try source.write(toFile: outputPath, atomically: true, encoding: .utf8)
} catch {
    fail("cannot write \(outputPath): \(error)")
}
