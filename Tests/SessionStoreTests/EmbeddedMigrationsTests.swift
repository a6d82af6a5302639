import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

/// The library embeds exactly the `Migrations/*.sql` files of the source tree. SwiftPM
/// decides what a build-tool plugin reads only when it evaluates the package, so a file
/// added to `Migrations/` after a build is left out of incremental builds until
/// `Package.swift` changes; this test names the missing files instead of letting a
/// schema test fail for no visible reason.
@Suite struct EmbeddedMigrationsTests {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appending(path: "Migrations")

    @Test func embeddedMigrationsAreTheFilesOfMigrationsDirectory() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path)
            .filter { $0.hasSuffix(".sql") }
            .sorted()
        #expect(files.count >= 8)
        let onDisk = try files.map { file in
            let stem = file.dropLast(".sql".count)
            let parts = stem.split(separator: "_", maxSplits: 1)
            let sql = try String(contentsOf: Self.directory.appending(path: file), encoding: .utf8)
            return Migration(version: Int(parts[0]) ?? -1, name: parts.count > 1 ? String(parts[1]) : "", sql: sql)
        }
        let embedded = SessionStore.migrations.map { Migration(version: $0.version, name: $0.name, sql: $0.sql) }
        let missing = onDisk.filter { !embedded.contains($0) }.map(\.name)
        #expect(
            missing.isEmpty,
            "not embedded (or embedded from an older text): \(missing); touch Package.swift so SwiftPM runs the EmbedMigrations plugin again")
        #expect(embedded == onDisk)
        // Versions run 1, 2, 3, ... without a gap: a gap is a file lost in a merge.
        #expect(onDisk.map(\.version) == Array(1...onDisk.count))
    }
}
