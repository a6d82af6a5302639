import Foundation
import Testing

/// The `sqlite3` shell, run as an operator would run it on a store's file.
///
/// Run through swift-subprocess (``Command``), not Foundation's `Process`: on Linux,
/// `Process.run()` finds the highest open descriptor by copying each `/proc/self/fd`
/// entry's `d_name` as a 256-byte struct, which reads past the end of glibc's 32 KiB
/// directory buffer once the process has ~1,350 descriptors open and crashes (SIGSEGV in
/// memcpy) when that buffer ends a mapped region (swift-corelibs-foundation#5472).
enum SQLiteShell {
    static let path = "/usr/bin/sqlite3"
    static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: path) }

    /// The rows `sqlite3` prints for `sql` on the file at `database`, one string a row
    /// (columns joined by `|`).
    static func rows(_ database: String, _ sql: String) async throws -> [String] {
        let result = try await Command.run(path, [database, sql])
        try #require(result.status == 0, "sqlite3 exited with \(result.status): \(result.stderr)")
        return result.stdout.split(separator: "\n").map(String.init)
    }
}
