import Foundation
import Testing

/// The Python client suite (Tests/python, grpcio with stubs generated from Protos/ at test
/// time) against the real `sessionctl serve --listen`: it must run every test and pass.
///
/// It runs in the project's virtual environment, `.venv/`, which `.ci/install-deps` makes
/// from the pinned `Tests/python/requirements.txt`; the system interpreter's packages play
/// no part.
@Suite struct PythonClientSuiteTests {
    static let python = SourceTree.packageRoot.appendingPathComponent(".venv/bin/python")

    @Test(.timeLimit(.minutes(10)))
    func thePythonClientSuitePassesWithNothingSkipped() async throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.python.path),
            "no \(Self.python.path): run `bash .ci/install-deps` first")
        let directory = TemporaryDirectory()
        let result = try await Command.run(
            Self.python.path,
            [
                "-I", "-m", "pytest", SourceTree.packageRoot.appendingPathComponent("Tests/python").path,
                "-q", "-p", "no:cacheprovider", "-rfEs", "--basetemp", directory.path("pytest"),
            ],
            environment: Sessionctl.environment(["SESSIONCTL": Sessionctl.executable.path]))
        #expect(result.status == 0, "pytest failed:\n\(result.stdout)\n\(result.stderr)")
        let summary = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let passed = summary.firstMatch(of: #/(\d+) passed/#).flatMap { Int($0.1) } ?? 0
        #expect(passed >= 55, "expected the whole suite to run: \(summary)")
        // A warning is an exception a client thread did not expect, among others.
        #expect(
            !summary.contains("skipped") && !summary.contains("failed") && !summary.contains("error") && !summary.contains("warning"),
            "\(summary)\n\(result.stdout.suffix(4000))")
    }
}
