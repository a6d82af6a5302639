import Foundation
import SessionStore
import Testing

/// The error surface a service maps onto its protocol: one table of codes, each with a
/// category, caught by pattern or by category, and no code spelled anywhere else.
@Suite struct ErrorSurfaceTests {
    @Test func aStoreErrorIsCaughtByPatternAndTheRestPropagates() async throws {
        try await TestStore().withStore { store in
            let session = try await store.openSession(userId: "ada", sessionId: "s1")
            _ = try await store.closeSession(key: session.key)

            var answer = "none"
            do {
                try await store.updateDetails(key: "0190aaaa-0000-7000-8000-000000000000", ["a": "1"])
            } catch SessionStoreError.Code.sessionNotFound {
                answer = "not found"
            }
            #expect(answer == "not found")

            do {
                try await store.updateDetails(key: session.key, ["a": "1"])
            } catch SessionStoreError.Code.sessionNotFound {
                answer = "not found again"
            } catch let error as SessionStoreError where error.category == .failedPrecondition {
                answer = "\(error.code)"
            }
            #expect(answer == "INVALID_HANDLE.SESSION_CLOSED")

            // A code the clauses do not name propagates to the caller unchanged.
            func mapped() async throws -> String {
                do {
                    try await store.updateDetails(key: "not-a-key", ["a": "1"])
                    return "ok"
                } catch SessionStoreError.Code.sessionNotFound {
                    return "404"
                }
            }
            let propagated = [await outcome { try await mapped() }].partitioned().errors
            #expect(propagated.map(\.code) == [.handleFormat])
            #expect(propagated.map(\.category) == [.invalidArgument])
        }
    }

    @Test func everyCodeHasOneSpellingACategoryAndARowInTheErrorTable() throws {
        let codes = SessionStoreError.Code.allCases
        #expect(Set(codes.map(\.rawValue)).count == codes.count, "a code is listed twice")
        let table = try SourceTree.text("docs/errors.md")
        let fields = table.components(separatedBy: "\n").first { $0.hasPrefix("| `INVALID_ARGUMENT.<FIELD>`") } ?? ""
        #expect(!fields.isEmpty, "docs/errors.md has no `INVALID_ARGUMENT.<FIELD>` row")
        for code in codes {
            let field = code.rawValue.replacingOccurrences(of: "INVALID_ARGUMENT.", with: "")
            let documented = table.contains("`\(code.rawValue)`") || fields.contains("`\(field)`")
            #expect(documented, "the error table in docs/errors.md lacks \(code.rawValue)")
            #expect(SessionStoreError.Code(rawValue: code.rawValue).category == code.category)
        }
    }

    @Test func capacityLimitsAreRetryableAndSizeLimitsAreNot() {
        let capacity: [SessionStoreError.Code] = [
            .sessionsTotal, .sessionsPerUser, .sessionsPerAddress, .sessionsPerUserAddress, .sessionsPerDataSource,
            .executionsPerSession, .streamingQueriesPerSession, .resourceBytesPerSession, .linksPerSession,
        ]
        #expect(capacity.allSatisfy { $0.category == .capacityExceeded })
        #expect(SessionStoreError.Code.detailsPerSession.category == .sizeExceeded)
        #expect(SessionStoreError.Code.storageBusy.category == .unavailable)
        #expect(SessionStoreError.Code.storageCorrupt.category == .storageFailure)
        #expect(SessionStoreError.Code.schemaTooNew.rawValue == "SCHEMA.TOO_NEW")
        #expect(SessionStoreError.Code.invalidUserId.rawValue == "INVALID_ARGUMENT.USER_ID")
        // A code of a later build keeps its string and is categorised by its group.
        #expect(SessionStoreError.Code(rawValue: "LIMIT_EXCEEDED.SOMETHING_NEW").category == .capacityExceeded)
        #expect(SessionStoreError.Code(rawValue: "INVALID_HANDLE.THING_NOT_FOUND").category == .notFound)
        #expect("\(SessionStoreError.Code.sessionClosed)" == "INVALID_HANDLE.SESSION_CLOSED")
    }

    /// Codes and event kinds are spelled once, in their tables; the rest of the library
    /// names them by member.
    @Test func codesAndEventKindsAreSpelledOnlyInTheirTables() throws {
        let codePattern = #/"(INVALID_HANDLE|INVALID_ARGUMENT|INVALID_TRANSITION|LIMIT_EXCEEDED|PERMISSION_DENIED|STORAGE|SCHEMA)[."]/#
        // An event kind, not a log metadata key (those are followed by a colon).
        let kindPattern = #/"(session|execution|streaming_query|resource|store|sweeper|call)\.[a-z_]+"(?!\s*:)/#
        let tables = [
            "Sources/SessionStoreCore/SessionStoreError+Code.swift", "Sources/SessionStoreCore/Events/StoreEvent.swift",
        ]
        var spelled: [String] = []
        // The service layer, the umbrella, and the SQLite backend's SQL and seam (its
        // migration errors spell their own `SCHEMA.*` strings, which the codes adopt).
        let files = try SourceTree.swiftFiles(module: "SessionStoreCore") + SourceTree.swiftFiles(module: "SessionStore")
            + SourceTree.swiftFiles(module: "SessionStoreSQLite").filter {
                $0.hasPrefix("Sources/SessionStoreSQLite/Records/") || $0.hasPrefix("Sources/SessionStoreSQLite/Backend/")
            }
        #expect(files.contains(tables[0]) && files.contains(tables[1]))
        for file in files where !tables.contains(file) {
            for (index, line) in try SourceTree.text(file).components(separatedBy: "\n").enumerated() {
                let code = line.trimmingCharacters(in: .whitespaces)
                guard !code.hasPrefix("//") else { continue }
                if code.contains(codePattern) || code.contains(kindPattern) {
                    spelled.append("\(file):\(index + 1): \(code)")
                }
            }
        }
        #expect(spelled.isEmpty, "codes or event kinds spelled outside their tables:\n\(spelled.joined(separator: "\n"))")
    }
}
