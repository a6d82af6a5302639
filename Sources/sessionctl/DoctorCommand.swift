import ArgumentParser
import SessionStore

struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the file: integrity, foreign keys and migration checksums. Exits non-zero when anything is wrong.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let report = try await withStore(global) { try await $0.checkIntegrity() }
        if global.json {
            try Output(json: true).printJSON(report)
        } else {
            Output.printLine("integrity check:    \(report.integrity.joined(separator: "; "))")
            Output.printLine("foreign key check:  \(report.foreignKeyViolations.isEmpty ? "ok" : report.foreignKeyViolations.joined(separator: "; "))")
            Output.printLine("migrations:         \(report.migrationProblems.isEmpty ? "ok" : report.migrationProblems.joined(separator: "; "))")
        }
        if !report.isHealthy {
            throw ExitCode(1)
        }
    }
}
