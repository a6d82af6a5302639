import CLibPQ
import Foundation

/// The text a connection sends and shows: statements with numbered parameters, connection
/// words without their password, and the statement that reads the server's clock.
extension PGConnection {
    /// `sql` with `?` and `?N` parameters written as PostgreSQL's `$N`; text inside quotes,
    /// identifiers and comments is left alone.
    package static func numberedParameters(_ sql: String) -> String {
        var output = ""
        output.reserveCapacity(sql.utf8.count + 16)
        var next = 1
        var characters = Array(sql)[...]
        var quote: Character?
        while let character = characters.popFirst() {
            if let open = quote {
                output.append(character)
                if character == open { quote = nil }
                continue
            }
            switch character {
            case "'", "\"":
                quote = character
                output.append(character)
            case "-" where characters.first == "-":
                output.append(character)
                while let rest = characters.popFirst() {
                    output.append(rest)
                    if rest == "\n" { break }
                }
            case "?":
                var digits = ""
                while let digit = characters.first, digit.isASCII, digit.isNumber {
                    digits.append(digit)
                    characters.removeFirst()
                }
                if let number = Int(digits) {
                    output += "$\(number)"
                    next = max(next, number + 1)
                } else {
                    output += "$\(next)"
                    next += 1
                }
            default:
                output.append(character)
            }
        }
        return output
    }

    /// `conninfo` without a password, for messages and ``SessionStore/path``.
    package static func redacted(_ conninfo: String) -> String {
        if conninfo.hasPrefix("postgres://") || conninfo.hasPrefix("postgresql://") {
            guard var components = URLComponents(string: conninfo) else { return "postgres://…" }
            if components.password != nil { components.password = "…" }
            if let items = components.queryItems {
                components.queryItems = items.map { $0.name == "password" ? URLQueryItem(name: $0.name, value: "…") : $0 }
            }
            return components.string ?? "postgres://…"
        }
        return conninfo.split(separator: " ").map { word in
            word.lowercased().hasPrefix("password=") ? "password=…" : String(word)
        }.joined(separator: " ")
    }

    /// The statement that reads the database's time, in milliseconds since 1970: the
    /// clock of the server, read when it runs (`clock_timestamp()`, not the transaction's
    /// start).
    package static let timeSQL = "SELECT \(clockSQL)"

    /// The server's clock now, in milliseconds since 1970, as an SQL expression.
    static let clockSQL = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"

    /// The one integer a ``timeSQL`` result holds.
    static func time(of result: OpaquePointer) -> Int64? {
        guard PQntuples(result) == 1, PQgetisnull(result, 0, 0) == 0, let value = PQgetvalue(result, 0, 0) else { return nil }
        return Int64(String(cString: value))
    }

    func lastResult(of result: OpaquePointer?, sql: String) throws(PostgresError) -> OpaquePointer {
        guard let result else { throw PostgresError(sqlState: "XX000", message: "a pipeline returned no result", sql: sql) }
        return result
    }

    /// Whether `conninfo` sets libpq's TCP options itself (`keepalives*`, `tcp_user_timeout`).
    static func setsTCPOptions(_ conninfo: String) -> Bool {
        let lowered = conninfo.lowercased()
        return lowered.contains("keepalives") || lowered.contains("tcp_user_timeout")
    }

    /// Makes a TCP connection fail within about 20 s once the server stops answering (a
    /// host cut off the network, a server gone without a word), rather than after the
    /// kernel's retransmissions give up, a quarter of an hour later: keep-alive probes
    /// after 10 s of silence, 3 s apart, 3 of them; unacknowledged data dropped after 20 s.
    /// The call in flight then fails with `STORAGE.UNAVAILABLE`, and the next connects
    /// again. A Unix socket refuses the options, which is fine.
    static func detectSilentPeers(socket: Int32) {
        guard socket >= 0 else { return }
        func set(_ level: Int32, _ option: Int32, _ value: Int32) {
            var value = value
            _ = setsockopt(socket, level, option, &value, socklen_t(MemoryLayout<Int32>.size))
        }
        set(SOL_SOCKET, SO_KEEPALIVE, 1)
        #if os(Linux)
        set(Int32(IPPROTO_TCP), TCP_KEEPIDLE, 10)
        set(Int32(IPPROTO_TCP), TCP_KEEPINTVL, 3)
        set(Int32(IPPROTO_TCP), TCP_KEEPCNT, 3)
        set(Int32(IPPROTO_TCP), TCP_USER_TIMEOUT, 20_000)
        #endif
    }
}
