import Foundation
import SessionStore

/// What a command does when the database file it names does not exist.
enum MissingDatabase: Sendable {
    /// Fail with `STORAGE.CANTOPEN` naming the path, creating nothing: a mistyped `--db`
    /// must not leave an empty database behind that the next command reads as "no sessions".
    case refuse
    /// Create it, and say so on stderr.
    case create

    /// The choice of the command this process runs; `Sessionctl.main` sets it from the
    /// command's type (``CreatesDatabase``), and `withStore` obeys it.
    @TaskLocal static var current: MissingDatabase = .refuse
}

/// A command whose work makes sense on a new, empty file, so it may create the file. Every
/// other command reads, or acts on sessions a new file cannot hold yet: it refuses a
/// missing file instead.
protocol CreatesDatabase {}

extension InitCommand: CreatesDatabase {}
extension OpenCommand: CreatesDatabase {}
extension LoadCommand: CreatesDatabase {}
extension ServeCommand: CreatesDatabase {}
extension DemoCommand: CreatesDatabase {}
extension BenchCommand: CreatesDatabase {}

/// The database file a command names, and whether it existed before the command ran.
struct DatabaseFile {
    let path: String
    let existed: Bool

    init(path: String) {
        self.path = path
        existed = FileManager.default.fileExists(atPath: path)
    }

    /// The path as a user can find it, whatever the working directory.
    var absolutePath: String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// The error of a command that will not create the missing file.
    var missing: SessionStoreError {
        SessionStoreError(
            code: .storageCantOpen,
            message: "no database at \(absolutePath); this command does not create one (sessionctl init does)")
    }

    /// Says on stderr that the command created the file, when it did.
    func announceCreation(_ output: Output) {
        guard !existed, FileManager.default.fileExists(atPath: path) else { return }
        output.printNotice("created", absolutePath)
    }
}
