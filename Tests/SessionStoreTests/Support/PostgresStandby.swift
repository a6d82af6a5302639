import Foundation

extension PostgresServer {
    /// A hot standby of this server on a port of its own: `pg_basebackup -R`, streaming
    /// this server's WAL, which then waits for the standby to flush every commit
    /// (`synchronous_standby_names = '*'`), so what it acknowledged survives a failover.
    func standby() async throws -> PostgresServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sessionstore-pg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: directory)
        let copied = try await Self.run(
            Self.asServer + [
                "\(Self.binaries)/pg_basebackup", "-D", "\(directory)/data", "-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-R",
                "-X", "stream",
            ])
        guard copied.status == 0 else { throw ServerError(message: "pg_basebackup failed (\(copied.status)): \(copied.stderr)") }
        let port = try Self.freePort()
        let options = (["-p \(port)", "-k \(directory)", "-c listen_addresses=127.0.0.1", "-c hot_standby=on"] + Self.settings)
            .joined(separator: " ")
        let started = try await Self.run(
            Self.asServer + ["\(Self.binaries)/pg_ctl", "-D", "\(directory)/data", "-o", options, "-l", "\(directory)/log", "-w", "start"])
        guard started.status == 0 else {
            let log = (try? String(contentsOfFile: "\(directory)/log", encoding: .utf8)) ?? started.stderr
            throw ServerError(message: "the standby did not start: \(log)")
        }
        try await Self.watch(directory: directory, asServer: Self.asServer)
        try execute("ALTER SYSTEM SET synchronous_standby_names = '*'")
        try execute("SELECT pg_reload_conf()")
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let streaming = try SharedConnection.of(adminConninfo).use {
                try $0.fetchInt64(sql: "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' AND sync_state = 'sync'")
            }
            if streaming == 1 { return PostgresServer(directory: directory, port: port) }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ServerError(message: "the standby did not start streaming")
    }

    /// `pg_ctl stop -m immediate`: the server is gone at once, as a crashed primary is.
    func kill() async throws {
        SharedConnection.forget(adminConninfo)
        let result = try await Self.run(Self.asServer + ["\(Self.binaries)/pg_ctl", "-D", "\(directory)/data", "-m", "immediate", "stop"])
        guard result.status == 0 else { throw ServerError(message: "pg_ctl stop failed (\(result.status)): \(result.stderr)") }
    }

    /// `pg_ctl promote`: the standby becomes a primary and takes writes.
    func promote() async throws {
        let result = try await Self.run(Self.asServer + ["\(Self.binaries)/pg_ctl", "-D", "\(directory)/data", "-w", "promote"])
        guard result.status == 0 else { throw ServerError(message: "pg_ctl promote failed (\(result.status)): \(result.stderr)") }
    }
}
