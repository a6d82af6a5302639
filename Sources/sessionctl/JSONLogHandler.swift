import Foundation
import Logging
import SessionStore

/// A swift-log handler writing each log line to stderr as one JSON object (JSON Lines):
/// `timestamp` (ISO-8601 UTC with milliseconds), `level`, `label`, `message` and
/// `metadata` (an object, empty when there is none), so a log collector reads `serve
/// --json` without parsing text. Each line is one write: lines of concurrent tasks never
/// interleave.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.label = label
        self.metadataProvider = metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        // The event's own metadata wins over the provider's, which wins over the handler's.
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        if let error = event.error, merged["error"] == nil { merged["error"] = "\(error)" }
        let line: [String: Any] = [
            "timestamp": Timestamp(milliseconds: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))).iso8601,
            "level": event.level.rawValue,
            "label": label,
            "message": event.message.description,
            "metadata": merged.mapValues(Self.jsonValue),
        ]
        guard let data = try? JSONSerialization.data(withJSONObject: line, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return }
        FileHandle.standardError.write(data + Data("\n".utf8))
    }

    /// Nested metadata as JSON objects and arrays; every other value as its text.
    static func jsonValue(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .dictionary(let dictionary): dictionary.mapValues(jsonValue)
        case .array(let array): array.map(jsonValue)
        default: value.description
        }
    }
}
