import Foundation
import Testing

/// The generated Swift code under Sources/SessionStoreGRPC/Generated matches the protos:
/// Protos/generate.sh records each proto's SHA-256 when it generates, and a proto edited
/// without regenerating fails here.
@Suite struct GeneratedCodeTests {
    @Test func everyProtoHasTheChecksumRecordedWhenItsCodeWasGenerated() async throws {
        let recorded = try SourceTree.text("Sources/SessionStoreGRPC/Generated/Protos.sha256")
        let lines = recorded.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        let protos = lines.compactMap { $0.count == 2 ? String($0[1]) : nil }
        #expect(
            protos.sorted() == [
                "grpc/health/v1/health.proto", "grpc/reflection/v1/reflection.proto",
                "grpc/reflection/v1alpha/reflection.proto", "sessionstore/v1/sessionstore.proto",
            ])
        let result = try await Command.run(
            "/usr/bin/env", ["sha256sum"] + protos.map { SourceTree.packageRoot.appendingPathComponent("Protos/\($0)").path })
        #expect(result.status == 0, "\(result.stderr)")
        let current = Dictionary(
            uniqueKeysWithValues: result.stdout.split(separator: "\n").map { line in
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                return (String(fields[1]).replacingOccurrences(of: SourceTree.packageRoot.path + "/Protos/", with: ""), String(fields[0]))
            })
        for line in lines where line.count == 2 {
            #expect(
                current[String(line[1])] == String(line[0]),
                "Protos/\(line[1]) changed since its code was generated: run bash Protos/generate.sh")
        }
        // Every proto under Protos/ is generated.
        let enumerator = FileManager.default.enumerator(atPath: SourceTree.packageRoot.appendingPathComponent("Protos").path)
        var found: [String] = []
        while let path = enumerator?.nextObject() as? String {
            if path.hasSuffix(".proto") { found.append(path) }
        }
        #expect(found.sorted() == protos.sorted())
    }
}
