import Foundation
import Testing

/// The Python client suite (Tests/python, grpcio with stubs generated from Protos/ at test
/// time) against the real `sessionctl serve --listen`: it must run every test and pass.
@Suite struct PythonClientSuiteTests {
    @Test(.timeLimit(.minutes(10)))
    func thePythonClientSuitePassesWithNothingSkipped() async throws {
        let directory = TemporaryDirectory()
        let result = try await Command.run(
            "/usr/bin/env",
            [
                "python3", "-m", "pytest", SourceTree.packageRoot.appendingPathComponent("Tests/python").path,
                "-q", "-p", "no:cacheprovider", "-rfEs", "--basetemp", directory.path("pytest"),
            ],
            environment: Sessionctl.environment(["SESSIONCTL": Sessionctl.executable.path]))
        #expect(result.status == 0, "pytest failed:\n\(result.stdout)\n\(result.stderr)")
        let summary = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let passed = summary.firstMatch(of: #/(\d+) passed/#).flatMap { Int($0.1) } ?? 0
        #expect(passed >= 26, "expected the whole suite to run: \(summary)")
        // A warning is an exception a client thread did not expect, among others.
        #expect(
            !summary.contains("skipped") && !summary.contains("failed") && !summary.contains("error") && !summary.contains("warning"),
            "\(summary)\n\(result.stdout.suffix(4000))")
    }
}
