import Foundation

/// The package's own source files, for tests that check the code itself.
enum SourceTree {
    /// The package root: four levels above this file (`Tests/SessionStoreTests/Support/<file>`).
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Every `.swift` file under `Sources/<module>`, in subfolders too, as paths relative to
    /// the package root, sorted.
    static func swiftFiles(module: String) throws -> [String] {
        let directory = packageRoot.appendingPathComponent("Sources/\(module)")
        guard let enumerator = FileManager.default.enumerator(atPath: directory.path) else { return [] }
        var files: [String] = []
        while let relative = enumerator.nextObject() as? String {
            if relative.hasSuffix(".swift") { files.append("Sources/\(module)/\(relative)") }
        }
        return files.sorted()
    }

    /// The text of `path`, relative to the package root.
    static func text(_ path: String) throws -> String {
        try String(contentsOf: packageRoot.appendingPathComponent(path), encoding: .utf8)
    }
}
