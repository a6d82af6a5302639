import Foundation
import SessionStoreSQLite

extension TestStore {
    /// Above Linux's and macOS's largest pid: `kill(pid, 0)` answers ESRCH.
    static let impossiblePid: Int64 = 2_147_483_646

    /// Writes the `instances` row a process of this host leaves behind when it dies with the
    /// file open (a pid no process has, heartbeat now); returns the row's id. A `serving`
    /// one ran the sweeper, so its death re-arms the sessions due after its heartbeat.
    @discardableResult
    func leaveDeadInstance(serving: Bool = true) throws -> Int64 {
        let now = clock.now()
        let db = try Database(path: path)
        try db.execute(
            sql: "INSERT INTO instances (host, pid, started_at, heartbeat_at, serving) VALUES (?, ?, ?, ?, ?)",
            [
                .text(ProcessInfo.processInfo.hostName), .integer(Self.impossiblePid), .integer(now), .integer(now),
                .integer(serving ? 1 : 0),
            ])
        return db.lastInsertedRowID
    }
}
