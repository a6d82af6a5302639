import CLibPQ

extension PGConnection {
    /// Consumes input from the server and returns the notifications received, each with
    /// the process id of the server connection that sent it; throws when the connection
    /// is gone.
    package func notifications() throws(PostgresError) -> [(channel: String, sender: Int32)] {
        guard PQconsumeInput(handle) == 1 else { throw failure(sql: nil, result: nil) }
        var received: [(channel: String, sender: Int32)] = []
        while let notify = PQnotifies(handle) {
            received.append((String(cString: notify.pointee.relname), notify.pointee.be_pid))
            PQfreemem(notify)
        }
        return received
    }
}
