import Foundation
import Testing

/// The README's library examples compile and run in a package of their own that depends
/// on this one, as a service author's package would: the dependency lines, the complete
/// service example and the error-handling idioms, all taken from README.md as written.
@Suite struct ConsumerPackageTests {
    /// README.md's fenced Swift blocks, in order.
    static func readmeSwiftBlocks() throws -> [String] {
        let readme = try SourceTree.text("README.md")
        var blocks: [String] = []
        var current: [String]?
        for line in readme.components(separatedBy: "\n") {
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

    /// The one README block that contains `marker`.
    static func block(containing marker: String, in blocks: [String]) throws -> String {
        let matches = blocks.filter { $0.contains(marker) }
        try #require(matches.count == 1, "README has \(matches.count) Swift blocks containing \(marker)")
        return matches[0]
    }

    /// Runs the error-handling example against a real store: each outcome is mapped as the
    /// README says, and an error it does not catch propagates to the caller.
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

    @Test func readmeExamplesBuildAndRunInAConsumerPackage() async throws {
        let blocks = try Self.readmeSwiftBlocks()
        let dependency = try Self.block(containing: ".package(", in: blocks)
        let service = try Self.block(containing: "ServiceGroup(", in: blocks)
        let errors = try Self.block(containing: "catch SessionStoreError.Code.", in: blocks)

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
        #expect(!build.stdout.contains("warning:"), "the README's examples compile with warnings:\n\(build.stdout)")
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
