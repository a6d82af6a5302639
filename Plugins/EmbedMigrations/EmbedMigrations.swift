import Foundation
import PackagePlugin

/// Compiles the package's migrations into the target as Swift source, so a service linking
/// the library needs no resource files at run time: `Migrations/*.sql` for SQLite, and
/// `Migrations/postgres/*.sql` for a target whose name ends in `Postgres`.
@main
struct EmbedMigrations: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        var directory = context.package.directoryURL.appending(path: "Migrations")
        if target.name.hasSuffix("Postgres") {
            directory = directory.appending(path: "postgres")
        }
        let files = try FileManager.default
            .contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "sql" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedMigrations.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) migrations from \(directory.lastPathComponent)/",
                executable: try context.tool(named: "MigrationEmbedder").url,
                arguments: [output.path] + files.map(\.path),
                inputFiles: files,
                outputFiles: [output])
        ]
    }
}
