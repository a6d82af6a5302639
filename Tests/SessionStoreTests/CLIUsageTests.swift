import Foundation
import Testing

/// Every argument of every command says what it is, and a usage error, whether
/// ArgumentParser finds it or the command does while running, is followed by the usage
/// of the command that was given, not the root's.
@Suite struct CLIUsageTests {
    /// The path of every command under the root (`["exec", "set"]`), hidden ones too, as
    /// `--experimental-dump-help` reports the tree of `configuration.subcommands`;
    /// ArgumentParser's own `help` is left out.
    static func commandPaths() async throws -> [[String]] {
        let dump = try await Sessionctl.run(["--experimental-dump-help"])
        try #require(dump.status == 0, "\(dump.stderr)")
        let root = try #require((try dump.json() as? [String: Any])?["command"] as? [String: Any])
        var paths: [[String]] = []
        func walk(_ command: [String: Any], _ path: [String]) {
            for child in command["subcommands"] as? [[String: Any]] ?? [] {
                guard let name = child["commandName"] as? String, name != "help" else { continue }
                paths.append(path + [name])
                walk(child, path + [name])
            }
        }
        walk(root, [])
        return paths
    }

    /// The entries of the ARGUMENTS, OPTIONS and titled option sections of a help text
    /// (`<key>`, `--limit <limit>`) that have no description, on their line or the next.
    static func undescribed(_ help: String) -> [String] {
        let lines = help.components(separatedBy: "\n")
        var missing: [String] = []
        var inEntries = false
        for (index, line) in lines.enumerated() {
            if !line.hasPrefix(" "), line.hasSuffix(":") {
                inEntries = !["OVERVIEW:", "USAGE:", "SUBCOMMANDS:"].contains(line)
                continue
            }
            guard inEntries, line.hasPrefix("  -") || line.hasPrefix("  <") else { continue }
            let entry = line.dropFirst(2)
            // A label, then two spaces or more and the description.
            if entry.contains("  "), !entry.split(separator: "  ", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces).isEmpty {
                continue
            }
            // A label too long for the column: the description on the next line, indented.
            let next = index + 1 < lines.count ? lines[index + 1] : ""
            if next.hasPrefix("    "), !next.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            missing.append(String(entry))
        }
        return missing
    }

    @Test func theCheckFindsAnUndescribedEntry() {
        let help = """
            ARGUMENTS:
              <key>                   The session key.
              <operation-id>

            OPTIONS:
              --a-very-long-option-name <a-very-long-option-name>
                                      Described on the next line.
              --limit <limit>
              -h, --help              Show help information.
            """
        #expect(Self.undescribed(help) == ["<operation-id>", "--limit <limit>"])
    }

    @Test func everyArgumentAndOptionOfEveryCommandHasHelp() async throws {
        let paths = try await Self.commandPaths()
        #expect(paths.count > 40, "only \(paths.count) commands found")
        #expect(paths.contains(["exec", "set"]) && paths.contains(["bench"]))
        var missing: [String] = []
        for path in paths {
            let help = try await Sessionctl.run(["help"] + path)
            #expect(help.status == 0, "help \(path.joined(separator: " ")): \(help.stderr)")
            #expect(help.stdout.contains("USAGE: sessionctl \(path.joined(separator: " "))"), "\(help.stdout)")
            missing += Self.undescribed(help.stdout).map { "sessionctl \(path.joined(separator: " ")) \($0)" }
        }
        #expect(missing.isEmpty, "arguments without help:\n\(missing.joined(separator: "\n"))")
    }

    /// Usage errors found by ArgumentParser (a missing argument, a bad value, a failed
    /// `validate()`) and by the command as it runs (a bad --timeout, --set, K=V or state).
    static let usageErrors: [(arguments: [String], command: String)] = [
        (["touch"], "touch"),
        (["get"], "get"),
        (["exec", "set", "0190d3a0-0000-7000-8000-000000000000"], "exec set"),
        (["exec", "set", "0190d3a0-0000-7000-8000-000000000000", "op", "sleeping"], "exec set"),
        (["list", "--limit", "many"], "list"),
        (["list", "--state", "sleepy"], "list"),
        (["releases"], "releases"),
        (["open", "--user", "ada", "--timeout", "forever"], "open"),
        (["open", "--user", "ada", "--detail", "no-equals-sign"], "open"),
        (["details", "set", "0190d3a0-0000-7000-8000-000000000000", "no-equals-sign"], "details set"),
        (["status", "--set", "no-such-option=1"], "status"),
    ]

    @Test(arguments: usageErrors)
    func aUsageErrorShowsTheUsageOfTheCommandGiven(arguments: [String], command: String) async throws {
        let db = CLIDatabase()
        let result = try await db.run(arguments)
        #expect(result.status == 64, "\(arguments): \(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.hasPrefix("Error: "), "\(result.stderr)")
        #expect(result.stderr.contains("Usage: sessionctl \(command) "), "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains("See 'sessionctl \(command) --help' for more information."), "\(result.stderr)")
        #expect(!result.stderr.contains("<subcommand>"), "the root's usage: \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db.path), "a usage error creates no file")

        // With --json the error is the usual object, code USAGE.
        let json = try await db.run(arguments + ["--json"])
        #expect(json.status == 64)
        #expect(json.error()?.code == "USAGE", "\(json.stderr)")
    }
}
