import Foundation
import SessionStore
import Testing

/// A text argument with a short name, so a 10 MB value never ends up in test output.
struct SessionBadText: Sendable, CustomTestStringConvertible {
    let label: String
    let value: String
    var testDescription: String { label }

    static let tenMegabytes = String(repeating: "x", count: 10 * 1024 * 1024)

    /// Unusable as an id or a name.
    static let ids: [SessionBadText] = [
        SessionBadText(label: "empty", value: ""),
        SessionBadText(label: "10 MB", value: tenMegabytes),
        SessionBadText(label: "control character U+0001", value: "a\u{1}b"),
        SessionBadText(label: "line break", value: "line\nbreak"),
        SessionBadText(label: "NUL", value: "a\u{0}b"),
        SessionBadText(label: "DEL", value: "a\u{7F}b"),
    ]

    /// Not a session key.
    static let keys: [SessionBadText] = [
        SessionBadText(label: "empty", value: ""),
        SessionBadText(label: "not-a-key", value: "not-a-key"),
        SessionBadText(label: "SQL text", value: "x' OR 1=1 --"),
        SessionBadText(label: "10 MB", value: tenMegabytes),
        SessionBadText(label: "UUID with a g", value: "0000000g-0000-0000-0000-000000000000"),
        SessionBadText(label: "UUID in braces", value: "{00000000-0000-0000-0000-000000000000}"),
        SessionBadText(label: "UUID with NUL", value: "00000000-0000-0000-0000-00000000000\u{0}"),
    ]

    /// Fine as a value: stored verbatim and read back identical.
    static let values: [SessionBadText] = [
        SessionBadText(label: "empty", value: ""),
        SessionBadText(label: "control characters", value: "tab\tbell\u{7}escape\u{1B}[31m\u{1}"),
        SessionBadText(label: "line breaks", value: "line\nbreak\r\n"),
        // Lower case, as SQL reads it too: the conformance folder's source rule takes
        // upper-case statements in a literal for SQL a suite runs.
        SessionBadText(label: "SQL text", value: "'); drop table sessions; --"),
        SessionBadText(label: "quotes and backslashes", value: "\"quoted\" \\ 'single' %s {} []"),
        SessionBadText(label: "non-ASCII", value: "héllo wörld ✓ 日本語 🚀 \u{301}e\u{FEFF}"),
        SessionBadText(label: "64 KiB", value: String(repeating: "é", count: 32_768)),
    ]
}

/// Bad input is refused with a typed error naming the field, before anything is written;
/// odd but valid values are stored verbatim.
@Suite struct SessionBadInputTests {
    /// Runs `body` with a store holding one live session, so every table has something to
    /// compare; the store is closed on every path.
    func withSeeded(_ backend: Backend, _ body: (StoreFixture, SessionStore, Session) async throws -> Void) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            let session = try await store.openSession(
                userId: "ada", sessionId: "s1", details: ["d": "1"], config: ["c": "1"])
            try await body(test, store, session)
        }
    }

    /// Runs `body`, expecting `code`, then checks that no table changed and the store is
    /// sound.
    func expectRefused<R>(
        _ code: SessionStoreError.Code, _ test: StoreFixture, _ store: SessionStore, sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () async throws -> R
    ) async throws {
        let before = try test.inspector.tableCounts()
        await expectError(code, sourceLocation: sourceLocation, body)
        #expect(try test.inspector.tableCounts() == before, sourceLocation: sourceLocation)
        #expect(try await store.checkIntegrity().isHealthy, sourceLocation: sourceLocation)
    }

    enum RequestField: String, CaseIterable, Sendable {
        case userId = "USER_ID"
        case sessionId = "SESSION_ID"
        case dataSource = "DATA_SOURCE"
        case type = "TYPE"
        case identifier = "IDENTIFIER"
        case clientAddress = "CLIENT_ADDRESS"
        case impersonatedUser = "IMPERSONATED_USER"
        case detailName = "DETAIL_NAME"
        case configName = "CONFIG_NAME"

        func apply(_ text: String, to request: inout OpenSessionRequest) {
            switch self {
            case .userId: request.userId = text
            case .sessionId: request.sessionId = text
            case .dataSource: request.dataSource = text
            case .type: request.type = text
            case .identifier: request.identifier = text
            case .clientAddress: request.clientAddress = text
            case .impersonatedUser: request.impersonatedUser = text
            case .detailName: request.details = ["ok": "1", text: "value"]
            case .configName: request.config = ["ok": "1", text: "value"]
            }
        }
    }

    /// One bad text in one request field, named by both and never by the value.
    struct BadField: Sendable, CustomTestStringConvertible {
        let field: RequestField
        let text: SessionBadText
        var testDescription: String { "\(field) \(text.label)" }

        static let all = RequestField.allCases.flatMap { field in SessionBadText.ids.map { BadField(field: field, text: $0) } }
    }

    @Test(arguments: Backend.all, BadField.all)
    func openRefusesABadIdField(backend: Backend, bad: BadField) async throws {
        let (field, text) = (bad.field, bad.text)
        try await withSeeded(backend) { test, store, _ in
            var request = OpenSessionRequest(userId: "bob", sessionId: "s2")
            field.apply(text.value, to: &request)
            try await expectRefused(SessionStoreError.Code(rawValue: "INVALID_ARGUMENT.\(field.rawValue)"), test, store) { try await store.openSession(request) }
        }
    }

    @Test(arguments: Backend.all, SessionBadText.ids)
    func otherCallsRefuseBadIdsAndNames(backend: Backend, text: SessionBadText) async throws {
        try await withSeeded(backend) { test, store, session in
            try await expectRefused("INVALID_ARGUMENT.USER_ID", test, store) {
                try await store.isolatedSession(userId: text.value, sessionId: "s1")
            }
            try await expectRefused("INVALID_ARGUMENT.SESSION_ID", test, store) {
                try await store.isolatedSession(userId: "ada", sessionId: text.value)
            }
            try await expectRefused("INVALID_ARGUMENT.USER_ID", test, store) {
                try await store.openIsolatedSession(userId: text.value, sessionId: "s1")
            }
            try await expectRefused("INVALID_ARGUMENT.SESSION_ID", test, store) {
                try await store.openIsolatedSession(userId: "ada", sessionId: text.value)
            }
            try await expectRefused("INVALID_ARGUMENT.DATA_SOURCE", test, store) {
                try await store.listCurrentSessions(dataSource: text.value)
            }
            try await expectRefused("INVALID_ARGUMENT.DETAIL_NAME", test, store) {
                try await store.updateDetails(key: session.key, ["ok": "1", text.value: "v"])
            }
            try await expectRefused("INVALID_ARGUMENT.DETAIL_NAME", test, store) {
                try await store.removeDetails(key: session.key, names: ["d", text.value])
            }
            try await expectRefused("INVALID_ARGUMENT.CONFIG_NAME", test, store) {
                try await store.setConfig(key: session.key, ["c": "2", text.value: "v"])
            }
            try await expectRefused("INVALID_ARGUMENT.IDENTIFIER", test, store) {
                try await store.updateIdentifier(key: session.key, text.value)
            }
            // The session is as it was.
            let now = try #require(try await store.session(key: session.key))
            #expect(now.details == ["d": "1"])
            #expect(now.config == ["c": "1"])
            #expect(now.identifier == nil)
        }
    }

    enum KeyedCall: String, CaseIterable, Sendable {
        case session, touch, closeSession, updateDetails, removeDetails, setConfig, updateIdentifier
        case statistics, children, parents, tree, addAssociateParent, addAssociateChild, openWithAssociate

        func call(_ store: SessionStore, key: String, live: String) async throws {
            switch self {
            case .session: _ = try await store.session(key: key)
            case .touch: _ = try await store.touch(key: key)
            case .closeSession: _ = try await store.closeSession(key: key)
            case .updateDetails: try await store.updateDetails(key: key, ["a": "1"])
            case .removeDetails: try await store.removeDetails(key: key, names: ["d"])
            case .setConfig: try await store.setConfig(key: key, ["c": "2"])
            case .updateIdentifier: try await store.updateIdentifier(key: key, "x")
            case .statistics: _ = try await store.sessionStatistics(key: key)
            case .children: _ = try await store.listChildren(key: key)
            case .parents: _ = try await store.listParents(key: key)
            case .tree: _ = try await store.sessionTree(key: key)
            case .addAssociateParent: try await store.addAssociate(parentKey: key, childKey: live)
            case .addAssociateChild: try await store.addAssociate(parentKey: live, childKey: key)
            case .openWithAssociate:
                var request = OpenSessionRequest(userId: "bob")
                request.associates = [live, key]
                _ = try await store.openSession(request)
            }
        }
    }

    /// One call given one malformed key, named by both and never by the key.
    struct BadKey: Sendable, CustomTestStringConvertible {
        let call: KeyedCall
        let key: SessionBadText
        var testDescription: String { "\(call) \(key.label)" }

        static let all = KeyedCall.allCases.flatMap { call in SessionBadText.keys.map { BadKey(call: call, key: $0) } }
    }

    @Test(arguments: Backend.all, BadKey.all)
    func malformedKeysAreAHandleFormatError(backend: Backend, bad: BadKey) async throws {
        let (call, key) = (bad.call, bad.key)
        try await withSeeded(backend) { test, store, session in
            try await expectRefused(SessionStoreError.Code.handleFormat, test, store) {
                try await call.call(store, key: key.value, live: session.key)
            }
            #expect(try await store.session(key: session.key)?.state == .idle)
        }
    }

    @Test(arguments: Backend.all, SessionBadText.values)
    func oddValuesAreStoredVerbatim(backend: Backend, text: SessionBadText) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            var request = OpenSessionRequest(userId: "ada")
            request.details = ["at-open": text.value]
            request.config = ["at-open": text.value]
            let session = try await store.openSession(request)
            #expect(session.details["at-open"] == text.value)
            try await store.updateDetails(key: session.key, ["later": text.value, "name'; drop table sessions; --": text.value])
            try await store.setConfig(key: session.key, ["later": text.value])
            try await store.closeSession(key: session.key, reason: text.value)

            let read = try #require(try await store.session(key: session.key))
            #expect(read.details == ["at-open": text.value, "later": text.value, "name'; drop table sessions; --": text.value])
            #expect(read.config == ["at-open": text.value, "later": text.value])
            #expect(read.endReason == text.value)

            // Byte for byte as stored: text of the very UTF-8 bytes given.
            let stored = try test.inspector.values("value", of: "session_details", orderedBy: "name")
            #expect(stored.count == 3)
            for value in stored {
                #expect(value.text == text.value)
                #expect(value.text.map { Array($0.utf8) } == Array(text.value.utf8))
            }
            #expect(try test.inspector.count("sessions") == 1)
            // Event payloads are still valid JSON and carry the value back.
            let ended = try await store.listEvents(filter: EventFilter(sessionKey: session.key, kind: EventKind.sessionEnded))
            #expect(ended.first?.payload["reason"] == text.value)
            let changed = try await store.listEvents(filter: EventFilter(kind: EventKind.configChanged))
            #expect(changed.map { $0.payload["new"] } == [text.value])
            #expect(try await store.checkIntegrity().isHealthy)
        }
    }

    @Test(arguments: Backend.all)
    func tenMegabyteValuesAreRefused(backend: Backend) async throws {
        try await withSeeded(backend) { test, store, session in
            let huge = SessionBadText.tenMegabytes
            try await expectRefused("INVALID_ARGUMENT.DETAIL_VALUE", test, store) {
                try await store.openSession(userId: "bob", details: ["big": huge])
            }
            try await expectRefused("INVALID_ARGUMENT.DETAIL_VALUE", test, store) {
                try await store.updateDetails(key: session.key, ["ok": "1", "big": huge])
            }
            try await expectRefused("INVALID_ARGUMENT.CONFIG_VALUE", test, store) {
                try await store.openSession(userId: "bob", config: ["big": huge])
            }
            try await expectRefused("INVALID_ARGUMENT.CONFIG_VALUE", test, store) {
                try await store.setConfig(key: session.key, ["big": huge])
            }
            try await expectRefused("INVALID_ARGUMENT.REASON", test, store) {
                try await store.closeSession(key: session.key, reason: huge)
            }
            var request = OpenSessionRequest(userId: "bob")
            request.credentials = huge
            try await expectRefused("INVALID_ARGUMENT.CREDENTIALS", test, store) { try await store.openSession(request) }
            #expect(try await store.session(key: session.key)?.isLive == true)
        }
    }

    /// U+0000 is the one character no value may hold: PostgreSQL's `text` cannot store it,
    /// so every backend refuses it, by field, and writes nothing.
    @Test(arguments: Backend.all)
    func valuesHoldingNULAreRefusedByField(backend: Backend) async throws {
        try await withSeeded(backend) { test, store, session in
            let nul = "a\u{0}b\u{0}"
            try await expectRefused("INVALID_ARGUMENT.DETAIL_VALUE", test, store) {
                try await store.openSession(userId: "bob", details: ["at-open": nul])
            }
            try await expectRefused("INVALID_ARGUMENT.DETAIL_VALUE", test, store) {
                try await store.updateDetails(key: session.key, ["ok": "1", "bad": nul])
            }
            try await expectRefused("INVALID_ARGUMENT.CONFIG_VALUE", test, store) {
                try await store.setConfig(key: session.key, ["bad": nul])
            }
            try await expectRefused("INVALID_ARGUMENT.REASON", test, store) {
                try await store.closeSession(key: session.key, reason: nul)
            }
            try await expectRefused("INVALID_ARGUMENT.STATEMENT", test, store) {
                try await store.createExecution(key: session.key, statement: nul)
            }
            #expect(try await store.session(key: session.key)?.isLive == true)
            #expect(try await store.session(key: session.key)?.details["ok"] == nil)
        }
    }

    static let negativeTimeouts: [Int64] = [-1, -1_000, .min]

    @Test(arguments: Backend.all, negativeTimeouts)
    func negativeTimeoutsAreRefused(backend: Backend, milliseconds: Int64) async throws {
        try await withSeeded(backend) { test, store, _ in
            try await expectRefused("INVALID_ARGUMENT.TIMEOUT", test, store) {
                try await store.openSession(userId: "bob", timeout: .after(.milliseconds(milliseconds)))
            }
        }
    }

    @Test(arguments: Backend.all)
    func zeroAndHugeTimeoutsAreClamped(backend: Backend) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore {
            $0.minTimeout = .milliseconds(2_000)
            $0.maxTimeout = .milliseconds(3_600_000)
        } body: { store in
            let zero = try await store.openSession(userId: "ada", timeout: .after(.milliseconds(0)))
            #expect(zero.timeout == .after(.milliseconds(2_000)))
            #expect(zero.expireAt?.milliseconds == StoreFixture.start + 2_000)
            let huge = try await store.openSession(userId: "ada", timeout: .after(.milliseconds(Int64.max)))
            #expect(huge.timeout == .after(.milliseconds(3_600_000)))
            #expect(huge.expireAt?.milliseconds == StoreFixture.start + 3_600_000)
            let duration = try await store.openSession(userId: "ada", timeout: .after(.seconds(Int64.max)))
            #expect(duration.timeout == .after(.milliseconds(3_600_000)))
            #expect(
                try test.inspector.count("sessions", where: ["timeout_ms": 2_000])
                    + test.inspector.count("sessions", where: ["timeout_ms": 3_600_000]) == 3)
        }
    }

    static let badVersions: [Int64] = [0, -1, .min]

    @Test(arguments: Backend.all, badVersions)
    func versionsBelowOneAreRefused(backend: Backend, version: Int64) async throws {
        try await withSeeded(backend) { test, store, _ in
            var request = OpenSessionRequest(userId: "bob")
            request.version = version
            try await expectRefused("INVALID_ARGUMENT.VERSION", test, store) { try await store.openSession(request) }
        }
    }

    static let offsetsBeyond: [Int64] = [18 * 3600 + 1, -(18 * 3600 + 1), 86_400, .max, .min + 1]

    @Test(arguments: Backend.all, offsetsBeyond)
    func utcOffsetsBeyondEighteenHoursAreRefused(backend: Backend, offset: Int64) async throws {
        try await withSeeded(backend) { test, store, _ in
            var request = OpenSessionRequest(userId: "bob")
            request.utcOffsetSeconds = offset
            try await expectRefused("INVALID_ARGUMENT.UTC_OFFSET", test, store) { try await store.openSession(request) }
        }
    }

    /// `Int64.min` is beyond ±18 hours like any other: it must be refused, not crash the
    /// process. Run in a child process so a crash fails this test only; the child finds
    /// the backend by its name.
    @Test(arguments: Backend.all)
    func utcOffsetOfInt64MinIsRefusedWithoutCrashing(backend: Backend) async {
        await #expect(processExitsWith: .success) { [name = backend.name as String] in
            guard let backend = Backend.all.first(where: { $0.name == name }) else { exit(6) }
            let test = try await StoreFixture(backend)
            try await test.withStore { store in
                var request = OpenSessionRequest(userId: "bob")
                request.utcOffsetSeconds = .min
                do {
                    _ = try await store.openSession(request)
                    exit(3)
                } catch let error as SessionStoreError {
                    if error.code != "INVALID_ARGUMENT.UTC_OFFSET" { exit(4) }
                }
                if try test.inspector.count("sessions") != 0 { exit(5) }
            }
        }
    }

    static let offsetsWithin: [Int64] = [18 * 3600, -18 * 3600, 0, 19_800]

    @Test(arguments: Backend.all, offsetsWithin)
    func utcOffsetsWithinEighteenHoursAreKept(backend: Backend, offset: Int64) async throws {
        let test = try await StoreFixture(backend)
        try await test.withStore { store in
            var request = OpenSessionRequest(userId: "ada")
            request.utcOffsetSeconds = offset
            let session = try await store.openSession(request)
            #expect(session.utcOffsetSeconds == offset)
            #expect(try test.inspector.integer("utc_offset_seconds", of: "sessions", where: ["key": .text(session.key)]) == offset)
        }
    }

    static let badLimits: [Int] = [0, 10_001, -1, .min, .max]

    @Test(arguments: Backend.all, badLimits)
    func listLimitsOutsideOneToTenThousandAreRefused(backend: Backend, limit: Int) async throws {
        try await withSeeded(backend) { test, store, _ in
            try await expectRefused("INVALID_ARGUMENT.LIMIT", test, store) {
                try await store.listSessions(SessionFilter(limit: limit))
            }
            try await expectRefused("INVALID_ARGUMENT.LIMIT", test, store) {
                try await store.listCurrentSessions(dataSource: "default", limit: limit)
            }
            try await expectRefused("INVALID_ARGUMENT.LIMIT", test, store) {
                try await store.listEvents(limit: limit)
            }
            #expect(try await store.listSessions(SessionFilter(limit: 1)).count == 1)
            #expect(try await store.listSessions(SessionFilter(limit: 10_000)).count == 1)
        }
    }
}
