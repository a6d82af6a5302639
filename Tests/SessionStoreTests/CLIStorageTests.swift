import Foundation
import Subprocess
import Testing

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// End-to-end tests of `sessionctl init`, `status` and `doctor`, and of how every command
/// treats the file it is given, run as a process.
@Suite struct CLIStorageTests {
    static let sqlite3 = "/usr/bin/sqlite3"

    /// Runs the `sqlite3` shell on `path` with `sql`; requires it to succeed.
    static func sqlite(_ path: String, _ sql: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let termination = try await Subprocess.run(
            .path(FilePath(sqlite3)), arguments: [path, sql], output: .discarded, error: .discarded
        ).terminationStatus
        try #require(termination == .exited(0), "sqlite3 \(sql) failed: \(termination)", sourceLocation: sourceLocation)
    }

    static func permissions(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int
    }

    /// The row count `status --json` reports for each table.
    static func tableRows(_ status: [String: Any]) -> [String: Int] {
        var rows: [String: Int] = [:]
        for table in status["tables"] as? [[String: Any]] ?? [] {
            if let name = table["table"] as? String, let count = table["rows"] as? Int {
                rows[name] = count
            }
        }
        return rows
    }

    @Test func initStatusAndDoctorOnANewFile() async throws {
        let db = CLIDatabase()
        #expect(!FileManager.default.fileExists(atPath: db.path))

        let initialized = try await db.object(["init"])
        #expect(initialized["path"] as? String == db.path)
        #expect(FileManager.default.fileExists(atPath: db.path))
        #expect(Self.permissions(db.path) == 0o600)

        let status = try await db.object(["status"])
        #expect(status["path"] as? String == db.path)
        let version = try #require(status["schemaVersion"] as? Int)
        #expect(version >= 1)
        #expect(status["latestKnownVersion"] as? Int == version)
        #expect(status["journalMode"] as? String == "wal")
        #expect((status["fileBytes"] as? Int ?? 0) > 0)
        #expect(status["walBytes"] is Int)
        let rows = Self.tableRows(status)
        #expect(rows["sessions"] == 0)
        #expect(rows["events"] == 0)
        #expect(rows["schema_migrations"] == version)
        // init reports the same schema version as status, as a JSON number.
        #expect(initialized["schemaVersion"] as? Int == version, "init --json printed schemaVersion \(initialized["schemaVersion"] ?? "nothing")")

        let report = try await db.object(["doctor"])
        #expect(report["integrity"] as? [String] == ["ok"])
        #expect(report["foreignKeyViolations"] as? [String] == [])
        #expect(report["migrationProblems"] as? [String] == [])

        // Sessions show in the row counts; the file and its companions stay private.
        _ = try await db.open(["--user", "ada"])
        #expect(Self.tableRows(try await db.object(["status"]))["sessions"] == 1)
        for path in [db.path, db.path + "-wal", db.path + "-shm"] where FileManager.default.fileExists(atPath: path) {
            #expect(Self.permissions(path) == 0o600, "\(path)")
        }

        // The text forms succeed too.
        let initText = try await db.run(["init"])
        #expect(initText.status == 0)
        #expect(initText.stdout == "\(db.path): schema version \(version)\n")
        let statusText = try await db.run(["status"])
        #expect(statusText.status == 0)
        #expect(statusText.stdout.contains("journal mode:   wal"))
        #expect(statusText.stdout.contains("schema_migrations"))
        let doctorText = try await db.run(["doctor"])
        #expect(doctorText.status == 0)
        #expect(doctorText.stdout.contains("integrity check:    ok"))
    }

    @Test func globalOptionsBeforeOrAfterTheSubcommandAndFromTheEnvironment() async throws {
        let directory = TemporaryDirectory()
        let path = directory.path("before.sqlite")
        // status only reads: init makes the file it reads.
        let initialized = try await Sessionctl.run(["init", "--db", path])
        #expect(initialized.status == 0, "\(initialized.stderr)")
        for arguments in [
            ["--db", path, "--json", "status"],
            ["status", "--json", "--db", path],
            ["--json", "status", "--db", path],
            ["--db", path, "status", "--json"],
        ] {
            let result = try await Sessionctl.run(arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            let status = try? result.json() as? [String: Any]
            #expect(status?["path"] as? String == path, "\(arguments)")
            #expect(status?["journalMode"] as? String == "wal", "\(arguments)")
        }

        // --set before the subcommand and --set after it both apply.
        let limited = ["--set", "max-sessions-per-user=1", "--db", path, "--json"]
        let opened = try await Sessionctl.run(["--set", "tick=2s", "open", "--user", "ada"] + limited)
        #expect(opened.status == 0, "\(opened.stderr)")
        let refused = try await Sessionctl.run(["--set", "max-sessions-per-user=1", "--json", "open", "--user", "ada", "--db", path])
        #expect(refused.status == 1)
        #expect(refused.error()?.code == "LIMIT_EXCEEDED.SESSIONS_PER_USER")

        // SESSIONSTORE_DB names the file when --db is absent; --db wins over it.
        let fromEnvironment = directory.path("environment.sqlite")
        let environment = ["SESSIONSTORE_DB": fromEnvironment]
        let status = try await Sessionctl.run(["init", "--json"], environment: environment)
        #expect(status.status == 0, "\(status.stderr)")
        #expect((try? status.json() as? [String: Any])?["path"] as? String == fromEnvironment)
        #expect(FileManager.default.fileExists(atPath: fromEnvironment))
        #expect(Self.permissions(fromEnvironment) == 0o600)
        let openedFromEnvironment = try await Sessionctl.run(["open", "--user", "ada", "--json"], environment: environment)
        #expect(openedFromEnvironment.status == 0)
        let listed = try await Sessionctl.run(["list", "--json"], environment: environment)
        #expect((try? listed.json() as? [[String: Any]])?.count == 1)

        let explicit = directory.path("explicit.sqlite")
        let unused = directory.path("unused.sqlite")
        let overridden = try await Sessionctl.run(["init", "--json", "--db", explicit], environment: ["SESSIONSTORE_DB": unused])
        #expect(overridden.status == 0)
        #expect((try? overridden.json() as? [String: Any])?["path"] as? String == explicit)
        #expect(!FileManager.default.fileExists(atPath: unused))
    }

    @Test func aFileThatIsNotADatabaseIsLeftUntouched() async throws {
        let directory = TemporaryDirectory()
        let copy = directory.path("passwd")
        try FileManager.default.copyItem(atPath: "/etc/passwd", toPath: copy)
        let original = try #require(FileManager.default.contents(atPath: copy))

        let text = try await Sessionctl.run(["status", "--db", copy])
        #expect(text.status == 1)
        #expect(text.stdout.isEmpty)
        #expect(text.stderr.hasPrefix("error: STORAGE.NOTADB: "))
        #expect(text.stderr.hasSuffix("\n") && text.stderr.split(separator: "\n").count == 1, "\(text.stderr)")
        #expect(text.stderr.contains("not an SQLite database"))

        for command in [["status"], ["init"], ["doctor"], ["open", "--user", "ada"], ["list"], ["events"]] {
            let result = try await Sessionctl.run(command + ["--json", "--db", copy])
            #expect(result.status == 1, "\(command)")
            #expect(result.stdout.isEmpty, "\(command)")
            #expect(result.error()?.code == "STORAGE.NOTADB", "\(command): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(command)")
        }

        #expect(FileManager.default.contents(atPath: copy) == original)
        for suffix in ["-wal", "-shm", "-journal"] {
            #expect(!FileManager.default.fileExists(atPath: copy + suffix), "\(suffix)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path) == ["passwd"])
    }

    @Test func aPathThatCannotBeCreatedFailsAndCreatesNothing() async throws {
        let missingRoot = "/nonexistent-dir"
        try #require(!FileManager.default.fileExists(atPath: missingRoot))
        let result = try await Sessionctl.run(["status", "--json", "--db", missingRoot + "/x.sqlite"])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.error()?.code == "STORAGE.CANTOPEN", "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: missingRoot))

        let directory = TemporaryDirectory()
        let nested = directory.path("missing") + "/x.sqlite"
        let text = try await Sessionctl.run(["open", "--user", "ada", "--db", nested])
        #expect(text.status == 1)
        #expect(text.stderr.hasPrefix("error: STORAGE.CANTOPEN: ") && text.stderr.split(separator: "\n").count == 1)
        let initialized = try await Sessionctl.run(["init", "--json", "--db", nested])
        #expect(initialized.error()?.code == "STORAGE.CANTOPEN")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path).isEmpty)
    }

    @Test
    func doctorAndEveryCommandFailOnAFileThatIsWrong() async throws {
        // A migration recorded with another checksum: nothing opens the file.
        let edited = CLIDatabase()
        _ = try await edited.object(["init"])
        try await Self.sqlite(edited.path, "UPDATE schema_migrations SET checksum='0' WHERE version=1")
        for command in [["doctor"], ["status"], ["init"], ["open", "--user", "ada"], ["list"]] {
            #expect(try await edited.failure(command) == "SCHEMA.CHECKSUM_MISMATCH", "\(command)")
        }
        let doctorText = try await edited.run(["doctor"])
        #expect(doctorText.status != 0)
        #expect(doctorText.stderr.hasPrefix("error: SCHEMA.CHECKSUM_MISMATCH: "))

        // A migration this build does not know: the file is too new.
        let future = CLIDatabase()
        _ = try await future.object(["init"])
        try await Self.sqlite(future.path, "INSERT INTO schema_migrations(version, name, checksum, applied_at) VALUES (999, 'future', 'x', 0)")
        for command in [["doctor"], ["status"], ["open", "--user", "ada"]] {
            #expect(try await future.failure(command) == "SCHEMA.TOO_NEW", "\(command)")
        }

        // A dangling foreign key: the file opens, but doctor reports it and exits 1.
        let dangling = CLIDatabase()
        _ = try await dangling.object(["init"])
        try await Self.sqlite(
            dangling.path,
            "PRAGMA foreign_keys=OFF; INSERT INTO session_details(session_id, name, value, updated_at) VALUES (12345, 'a', 'b', 0)")
        #expect(try await dangling.run(["status"]).status == 0)
        let report = try await dangling.run(["doctor", "--json"])
        #expect(report.status == 1)
        let object = try #require(try report.json() as? [String: Any])
        #expect(object["integrity"] as? [String] == ["ok"])
        #expect((object["foreignKeyViolations"] as? [String])?.count == 1)
        #expect(object["migrationProblems"] as? [String] == [])
        let text = try await dangling.run(["doctor"])
        #expect(text.status == 1)
        #expect(text.stdout.contains("foreign key check:  session_details"))
    }
}
