import Foundation
import SessionStore
import SessionStoreSQLite
import Testing

/// The database path names the file that is opened, and only a file of this user's:
/// a symbolic link is refused (it would turn whatever it points to into a database), so is
/// a file another user owns; a `--db` value is never read as an SQLite URI; and a file of
/// this user's that others could read is made private.
@Suite struct FileSafetyTests {
    static func mode(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    static func write(_ text: String, to path: String, mode: Int) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    @Test func aSymbolicLinkIsRefusedAndWhatItPointsToIsLeftAsItWas() async throws {
        let directory = TemporaryDirectory()
        let victim = directory.path("victim.txt")
        try Self.write("not a database\n", to: victim, mode: 0o644)
        let link = directory.path("l.db")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: victim)

        let result = try await Sessionctl.run(["--db", link, "init"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("symbolic link"), "stderr: \(result.stderr)")
        await expectError(.storageCantOpen) { _ = try await SessionStore.open(path: link) }

        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "not a database\n")
        #expect(try Self.mode(victim) == 0o644)
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.url.path).sorted()
        #expect(left == ["l.db", "victim.txt"])
    }

    @Test func aDanglingSymbolicLinkCreatesNothing() async throws {
        let directory = TemporaryDirectory()
        let target = directory.path("elsewhere.db")
        let link = directory.path("l.db")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        await expectError(.storageCantOpen) { _ = try await SessionStore.open(path: link) }
        #expect(!FileManager.default.fileExists(atPath: target))
    }

    /// `file:x.db?nolock=1` is a file of that name in the working directory, not a URI
    /// that opens `x.db` without locks.
    @Test func aPathThatLooksLikeAURIIsAFileName() async throws {
        let directory = TemporaryDirectory()
        let command = "cd '\(directory.url.path)' && exec '\(Sessionctl.executable.path)' --db 'file:x.db?nolock=1' init"
        let result = try await Command.run("/bin/sh", ["-c", command], environment: Sessionctl.environment())
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: directory.path("file:x.db?nolock=1")))
        #expect(!FileManager.default.fileExists(atPath: directory.path("x.db")))
    }

    @Test(.enabled(if: geteuid() == 0, "only root can give a file to another user"))
    func aFileOwnedByAnotherUserIsRefused() async throws {
        let test = TestStore()
        try await test.withStore { _ in }
        let nobody: uid_t = 65_534
        #expect(chown(test.path, nobody, nobody) == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: test.path))
        let error = await expectError(.storageCantOpen) { _ = try await test.open() }
        #expect(error?.message.contains("owned by user id 65534") == true, "\(String(describing: error))")
        #expect(try Data(contentsOf: URL(fileURLWithPath: test.path)) == before)
    }

    @Test func aFileOthersCouldReadIsMadePrivateAndADebugLineSaysSo() async throws {
        let test = TestStore()
        try await test.withStore { store in _ = try await store.openSession(userId: "ada") }
        #expect(chmod(test.path, 0o644) == 0)
        let lines = CapturedLogLines()
        try await test.withStore { $0.logger = lines.logger() } body: { (store) async throws in
            #expect(try await store.listSessions().count == 1)
        }
        #expect(try Self.mode(test.path) == 0o600)
        let reported = lines.matching("made a database file private (mode 0600)")
        #expect(reported.count == 1)
        #expect(reported.first?.level == .debug)
        #expect(reported.first?.metadata["file.path"] == test.path)
        #expect(reported.first?.metadata["file.old_mode"] == "644")
    }
}
