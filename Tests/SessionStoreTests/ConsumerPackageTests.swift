import Foundation
import Testing

/// The documented library examples compile and run in a package of their own that depends
/// on this one, as a service author's package would: the dependency lines and the complete
/// service example, taken from README.md as written, and the error-handling idioms, taken
/// from docs/errors.md as written.
@Suite struct ConsumerPackageTests {
    /// The fenced Swift blocks of the Markdown file at `path` (relative to the package
    /// root), in order.
    static func swiftBlocks(in path: String) throws -> [String] {
        let text = try SourceTree.text(path)
        var blocks: [String] = []
        var current: [String]?
        for line in text.components(separatedBy: "\n") {
            if current == nil, line == "```swift" {
                current = []
            } else if current != nil, line == "```" {
                blocks.append(current?.joined(separator: "\n") ?? "")
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    /// The one Swift block of the Markdown file at `path` that contains `marker`.
    static func block(containing marker: String, in path: String) throws -> String {
        let matches = try swiftBlocks(in: path).filter { $0.contains(marker) }
        try #require(matches.count == 1, "\(path) has \(matches.count) Swift blocks containing \(marker)")
        return matches[0]
    }

    /// Runs the error-handling example against a real store: each outcome is mapped as
    /// docs/errors.md says, and an error it does not catch propagates to the caller.
    static let errorDriver = """

        let store = try await SessionStore.open(path: CommandLine.arguments[1])
        do {
            let session = try await store.openSession(userId: "ada", sessionId: "s1")
            print("live", try await updateStatus(store, key: session.key, details: ["device": "sensor-8"]))
            _ = try await store.closeSession(key: session.key, reason: "done")
            print("closed", try await updateStatus(store, key: session.key, details: ["device": "sensor-9"]))
            print("unknown", try await updateStatus(store, key: "0190aaaa-0000-7000-8000-000000000000", details: [:]))
            do {
                _ = try await updateStatus(store, key: "not-a-key", details: [:])
                print("malformed", "no error")
            } catch let error as SessionStoreError {
                print("malformed", error.code, error.category)
            }
        } catch {
            await store.close()
            throw error
        }
        await store.close()
        """

    @Test func documentedExamplesBuildAndRunInAConsumerPackage() async throws {
        let dependency = try Self.block(containing: ".package(", in: "README.md")
        let service = try Self.block(containing: "ServiceGroup(", in: "README.md")
        let errors = try Self.block(containing: "catch SessionStoreError.Code.", in: "docs/errors.md")

        let packageLine = try #require(
            dependency.components(separatedBy: "\n").first { $0.contains(".package(path:") },
            "README's dependency block names the package by path")
        let pathArgument = try #require(packageLine.firstMatch(of: /\.package\(path: "([^"]+)"\)/)?.1)
        let product = try #require(dependency.firstMatch(of: /\.product\(name: "SessionStore", package: "([^"]+)"\)/))
        // SwiftPM names a path dependency after its folder: the README's `package:` must
        // be the last component of its path.
        #expect(String(product.1) == pathArgument.split(separator: "/").last.map(String.init))

        let scratch = TemporaryDirectory()
        let consumer = URL(fileURLWithPath: scratch.path("consumer"))
        // The checkout under the folder name the README's path gives it.
        let checkout = consumer.appendingPathComponent(String(pathArgument)).standardizedFileURL
        try FileManager.default.createDirectory(at: consumer, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: checkout, withDestinationURL: SourceTree.packageRoot)

        let productExpression = String(dependency[product.range])
        let manifest = """
            // swift-tools-version:6.2
            import PackageDescription

            let package = Package(
                name: "Consumer",
                platforms: [.macOS(.v15)],
                dependencies: [
                    \(packageLine.trimmingCharacters(in: .whitespaces))
                ],
                targets: [
                    .executableTarget(name: "MyService", dependencies: [\(productExpression)]),
                    .executableTarget(name: "ErrorHandling", dependencies: [\(productExpression)]),
                ]
            )
            """
        try write(manifest, to: consumer.appendingPathComponent("Package.swift"))
        try write(service, to: consumer.appendingPathComponent("Sources/MyService/main.swift"))
        try write(errors + "\n" + Self.errorDriver, to: consumer.appendingPathComponent("Sources/ErrorHandling/main.swift"))

        let build = try await Command.run("/usr/bin/env", ["swift", "build", "--package-path", consumer.path])
        #expect(build.status == 0, "swift build of the consumer failed:\n\(build.stdout.suffix(4000))\n\(build.stderr.suffix(2000))")
        #expect(!build.stdout.contains("warning:"), "the documented examples compile with warnings:\n\(build.stdout)")
        guard build.status == 0 else { return }

        let binary = consumer.appendingPathComponent(".build/debug/ErrorHandling").path
        let run = try await Command.run(binary, [scratch.path("errors.sqlite")])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(
            run.stdout.components(separatedBy: "\n").filter { !$0.isEmpty } == [
                "live 200", "closed 410", "unknown 404", "malformed INVALID_HANDLE.FORMAT invalidArgument",
            ])
    }

    private func write(_ text: String, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }
}
