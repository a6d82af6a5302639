import Foundation

/// What `lstat` says about a database file, and the rules a file must meet before a
/// connection opens it (see ``Database``).
struct FileStatus {
    let path: String
    let status: stat

    /// The status of the file at `path` itself (a link is not followed); `nil` when there
    /// is none.
    init?(_ path: String) throws(SQLiteError) {
        var status = stat()
        guard lstat(path, &status) == 0 else {
            if errno == ENOENT { return nil }
            throw SQLiteError(code: .cantOpen, message: "cannot examine \(path): \(String(cString: strerror(errno)))")
        }
        self.path = path
        self.status = status
    }

    var isSymbolicLink: Bool { status.st_mode & S_IFMT == S_IFLNK }
    var permissions: UInt32 { UInt32(status.st_mode & 0o7777) }

    /// Refuses a symbolic link, and a file another user owns when opening for writing;
    /// brings a file of this user's that others may use, and its companions, to 0600.
    func check(configuration: DatabaseConfiguration) throws(SQLiteError) {
        if isSymbolicLink {
            throw SQLiteError(
                code: .cantOpen,
                message: "\(path) is a symbolic link; refusing to open it (pass the path of the database file itself)")
        }
        guard !configuration.readOnly else { return }
        let user = geteuid()
        if status.st_uid != user {
            throw SQLiteError(
                code: .cantOpen,
                message: "\(path) is owned by user id \(status.st_uid), not by this process's user id \(user); refusing to open it")
        }
        for companion in [path, path + "-wal", path + "-shm"] {
            try Self.tighten(companion, user: user, observer: configuration.permissionsTightened)
        }
    }

    /// Brings `path` to mode 0600 when it is a regular file of `user` that others may
    /// read or write; a missing companion is skipped.
    private static func tighten(_ path: String, user: uid_t, observer: (@Sendable (String, UInt32) -> Void)?) throws(SQLiteError) {
        guard let file = try FileStatus(path), !file.isSymbolicLink, file.status.st_uid == user,
            file.permissions & 0o077 != 0
        else { return }
        guard chmod(path, 0o600) == 0 else {
            throw SQLiteError(code: .cantOpen, message: "cannot make \(path) private (mode 0600): \(String(cString: strerror(errno)))")
        }
        observer?(path, file.permissions)
    }
}
