import SessionStore

/// A ``StoreEvent`` as every `--json` output prints it: every field, absent ones as null,
/// and the payload's documented numeric and boolean fields (``EventPayloadFields``) as JSON
/// numbers and booleans rather than the text the store keeps them as.
struct EventJSON: Encodable {
    let event: StoreEvent

    init(_ event: StoreEvent) {
        self.event = event
    }

    private enum CodingKeys: String, CodingKey {
        case seq, at, kind, sessionKey, userId, dataSource, operationId, payload
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(event.seq, forKey: .seq)
        try container.encode(event.at, forKey: .at)
        try container.encode(event.kind, forKey: .kind)
        try container.encode(event.sessionKey, forKey: .sessionKey)
        try container.encode(event.userId, forKey: .userId)
        try container.encode(event.dataSource, forKey: .dataSource)
        try container.encode(event.operationId, forKey: .operationId)
        try container.encode(EventPayloadFields.typed(event.payload, of: event.kind), forKey: .payload)
    }
}

/// The payload fields each event kind documents as numbers or booleans
/// (``EventKind``'s docs). The store keeps every payload value as text; JSON output
/// converts only the fields named here, so an id that happens to read `123` stays a string.
enum EventPayloadFields {
    enum FieldType {
        /// A whole number.
        case integer
        /// A whole number, or `never` (printed as null), as a session's `timeoutMs`.
        case integerOrNever
        /// `true` or `false`.
        case boolean
    }

    static let types: [EventKind: [String: FieldType]] = [
        EventKind.sessionStarted: ["timeoutMs": .integerOrNever],
        EventKind.sessionRefused: ["limit": .integer, "live": .integer],
        EventKind.callRefused: ["count": .integer],
        EventKind.executionCreated: ["reattachable": .boolean],
        EventKind.resourceAdded: ["bytes": .integer],
        EventKind.resourceReleased: ["bytes": .integer, "createdAt": .integer],
        EventKind.storeRecovered: [
            "deadInstances": .integer, "failedExecutions": .integer, "detachedExecutions": .integer,
            "endedSessions": .integer,
        ],
        EventKind.stormGuard: ["behindMs": .integer, "behindTicks": .integer],
    ]

    /// One payload value as JSON writes it.
    enum Value: Encodable, Equatable {
        case text(String)
        case integer(Int64)
        case boolean(Bool)
        case null

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .text(let text): try container.encode(text)
            case .integer(let number): try container.encode(number)
            case .boolean(let flag): try container.encode(flag)
            case .null: try container.encodeNil()
            }
        }
    }

    /// `payload` with the fields `kind` declares converted. A value that does not read as
    /// its declared type (written by another build) stays text rather than being lost.
    static func typed(_ payload: [String: String], of kind: EventKind) -> [String: Value] {
        let declared = types[kind] ?? [:]
        var typed: [String: Value] = [:]
        for (name, text) in payload {
            typed[name] = declared[name].flatMap { convert(text, to: $0) } ?? .text(text)
        }
        return typed
    }

    private static func convert(_ text: String, to type: FieldType) -> Value? {
        switch type {
        case .integer: Int64(text).map(Value.integer)
        case .integerOrNever: text == "never" ? .null : Int64(text).map(Value.integer)
        case .boolean: Bool(text).map(Value.boolean)
        }
    }
}
