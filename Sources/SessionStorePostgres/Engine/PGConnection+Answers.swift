import CLibPQ
import Foundation

extension PGConnection {
    /// The error of a failed call: `STORAGE.UNAVAILABLE` when the connection is gone,
    /// else the server's SQLSTATE and message.
    func failure(sql: String?, result: OpaquePointer?) -> PostgresError {
        let broken = PQstatus(handle) != CONNECTION_OK
        var sqlState: String?
        var message = String(cString: PQerrorMessage(handle))
        if let result {
            if let field = PQresultErrorField(result, Int32(UInt8(ascii: "C"))) {
                sqlState = String(cString: field)
            }
            if let field = PQresultErrorField(result, Int32(UInt8(ascii: "M"))) {
                message = String(cString: field)
            }
        }
        message = message.trimmingCharacters(in: .whitespacesAndNewlines)
        if broken || sqlState == nil && result == nil {
            return PostgresError(
                unavailable: "lost the connection to PostgreSQL at \(location): \(message)", location: location, sql: sql)
        }
        return PostgresError(sqlState: sqlState ?? "XX000", message: message, sql: sql)
    }

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
