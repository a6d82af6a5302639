import Foundation
import Hummingbird

/// A page's query string as a form sends it (`application/x-www-form-urlencoded`: `+`
/// for a space, percent-encoded bytes), first value of each name; empty values absent.
struct Query: Sendable {
    private var values: [String: String] = [:]

    init(_ request: Request) {
        self.init(request.uri.query ?? "")
    }

    init(_ query: String) {
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]), parts.count == 2, let value = Self.decode(parts[1]) else { continue }
            let trimmed = value.trimmingCharacters(in: .whitespaces)
            if values[name] == nil, !trimmed.isEmpty { values[name] = trimmed }
        }
    }

    subscript(_ name: String) -> String? { values[name] }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
