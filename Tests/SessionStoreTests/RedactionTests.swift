import Foundation
import SessionStore
import SessionStoreSQLite
import Synchronization
import Testing

/// Secrets stay out of what others read: config values whose names match the redaction
/// pattern never reach the event log, log lines or listings, an authenticator's error
/// text reaches only a debug log line, and requests never print their credentials.
@Suite struct RedactionTests {
    static let secret = "AKIAIOSFODNN7EXAMPLE"
    static let newSecret = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"
    static let password = "hunter2-pw"
    static let redacted = SessionStoreConfiguration.redactedValue

    /// Every event payload in the file, read with SQL as `sqlite3` would.
    func payloads(_ test: TestStore, kind: String? = nil) throws -> [String] {
        try test.inspect { db in
            if let kind {
                return try db.fetchAll(sql: "SELECT payload FROM events WHERE kind = ? ORDER BY seq", [.text(kind)]) { $0.string(0) }
            }
            return try db.fetchAll(sql: "SELECT payload FROM events ORDER BY seq") { $0.string(0) }
        }
    }

    /// A JSON object of strings, as event payloads are stored.
    static func strings(_ text: String) -> [String: String] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String]) ?? [:]
    }

    /// Each captured log line as one text: its message and every metadata value.
    func logTexts(_ log: CapturedLogLines) -> [String] {
        log.all().map { line in ([line.message] + line.metadata.map { "\($0.key)=\($0.value)" }).joined(separator: " ") }
    }

    @Test func secretConfigValuesNeverReachTheEventLogOrTheLogs() async throws {
        let test = TestStore()
        let log = CapturedLogLines()
        try await test.withStore { $0.logger = log.logger() } body: { store in
            var request = OpenSessionRequest(userId: "ada", sessionId: "etl")
            request.config = ["spark.hadoop.fs.s3a.secret.key": Self.secret, "spark.app.name": "etl"]
            let session = try await store.openSession(request)
            let changed = try await store.setConfig(
                key: session.key,
                [
                    "spark.hadoop.fs.s3a.secret.key": Self.newSecret, "spark.sql.shuffle.partitions": "200",
                    "db.PASSWORD": Self.password, "fs.s3a.access_key": "AKIA-ACCESS", "spark.AuthToken": "tok-1",
                    "ldap.credentials": "cn=admin",
                ])
            #expect(changed.count == 6)
            _ = try await store.touch(key: session.key)
            try await store.closeSession(key: session.key)

            // The owner reads the real values; the stored config keeps them.
            let stored = try #require(try await store.session(key: session.key))
            #expect(stored.config["spark.hadoop.fs.s3a.secret.key"] == Self.newSecret)
            #expect(stored.config["db.PASSWORD"] == Self.password)
            #expect(
                try test.count(
                    "SELECT count(*) FROM session_config WHERE name = 'spark.hadoop.fs.s3a.secret.key' AND value = ?",
                    [.text(Self.newSecret)]) == 1)

            let secrets = [Self.secret, Self.newSecret, Self.password, "AKIA-ACCESS", "tok-1", "cn=admin"]
            let all = try payloads(test)
            #expect(!all.isEmpty)
            for secret in secrets {
                #expect(!all.contains { $0.contains(secret) }, "an event holds \(secret)")
                #expect(!logTexts(log).contains { $0.contains(secret) }, "a log line holds \(secret)")
            }

            let changes = try payloads(test, kind: EventKind.configChanged.rawValue).map(Self.strings)
            #expect(changes.contains(["name": "spark.sql.shuffle.partitions", "new": "200"]))
            #expect(changes.contains(["name": "spark.hadoop.fs.s3a.secret.key", "old": Self.redacted, "new": Self.redacted]))
            for name in ["db.PASSWORD", "fs.s3a.access_key", "spark.AuthToken", "ldap.credentials"] {
                #expect(changes.contains(["name": name, "new": Self.redacted]), "\(name): \(changes)")
            }
            // The library's own reading of the log shows the same.
            let events = try await store.listEvents(filter: EventFilter(kind: EventKind.configChanged))
            #expect(events.allSatisfy { !secrets.contains($0.payload["new"] ?? "") })
        }
    }

    @Test func aConfiguredPatternReplacesTheDefault() async throws {
        let test = TestStore()
        var configuration = SessionStoreConfiguration()
        try configuration.set("redaction-pattern", to: #"^internal\."#)
        #expect(SessionStoreConfiguration.options.first { $0.name == "redaction-pattern" }?.value(in: configuration) == #"^internal\."#)
        let pattern = configuration.redactionPattern
        try await test.withStore { $0.redactionPattern = pattern } body: { store in
            let session = try await store.openSession(userId: "ada")
            try await store.setConfig(key: session.key, ["INTERNAL.flag": "hidden-1", "spark.secret": "shown-2", "x.internal.y": "shown-3"])
            let changes = try payloads(test, kind: EventKind.configChanged.rawValue).map(Self.strings)
            // Matched case-insensitively, anywhere the pattern allows; the default no longer applies.
            #expect(changes.contains(["name": "INTERNAL.flag", "new": Self.redacted]))
            #expect(changes.contains(["name": "spark.secret", "new": "shown-2"]))
            #expect(changes.contains(["name": "x.internal.y", "new": "shown-3"]))
        }

        // `^$` matches no name: nothing is redacted.
        let open = TestStore()
        try await open.withStore { $0.redactionPattern = "^$" } body: { store in
            let session = try await store.openSession(userId: "ada")
            try await store.setConfig(key: session.key, ["spark.secret": "shown"])
            #expect(try payloads(open, kind: EventKind.configChanged.rawValue).map(Self.strings) == [["name": "spark.secret", "new": "shown"]])
        }
    }

    @Test func aBadPatternFailsTheOpenBeforeTheFileIsMade() async throws {
        for pattern in ["(", "[a-", ""] {
            let test = TestStore()
            let error = await expectError(SessionStoreError.Code.invalidConfigValue) {
                try await test.open { $0.redactionPattern = pattern }
            }
            #expect(error?.message.contains("redaction-pattern") == true, "\(String(describing: error))")
            #expect(!FileManager.default.fileExists(atPath: test.path))

            var configuration = SessionStoreConfiguration()
            await expectError(SessionStoreError.Code.invalidConfigValue) { try configuration.set("redaction-pattern", to: pattern) }
            #expect(configuration.redactionPattern == SessionStoreConfiguration.defaultRedactionPattern)
        }
    }

    struct LeakyAuthenticator: SessionAuthenticator {
        struct DirectoryDown: Error, CustomStringConvertible {
            var description: String { "user db password is hunter2" }
        }
        func authenticate(_ request: AuthenticationRequest) async throws -> Bool {
            throw DirectoryDown()
        }
    }

    @Test func anAuthenticatorsErrorTextReachesOnlyADebugLogLine() async throws {
        let test = TestStore()
        let log = CapturedLogLines()
        try await test.withStore({
            $0.authenticator = LeakyAuthenticator()
            $0.logger = log.logger()
        }) { store in
            var request = OpenSessionRequest(userId: "ada")
            request.credentials = "tok-s3cr3t"
            let error = await expectError(SessionStoreError.Code.authenticationFailed) { try await store.openSession(request) }
            let message = try #require(error?.message)
            #expect(!message.contains("hunter2") && !message.contains("password"), "\(message)")
            #expect(!"\(String(describing: error))".contains("hunter2"))

            let refusals = try payloads(test, kind: EventKind.sessionRefused.rawValue).map(Self.strings)
            #expect(refusals == [["code": SessionStoreError.Code.authenticationFailed.rawValue, "message": message]])

            let leaking = log.all().filter { line in line.metadata.values.contains { $0.contains("hunter2") } || line.message.contains("hunter2") }
            #expect(leaking.count == 1)
            #expect(leaking.allSatisfy { $0.level == .debug && $0.message == "authenticator failed" })
            #expect(!logTexts(log).contains { $0.contains("tok-s3cr3t") })
        }
    }

    /// Keeps the request the store hands to the authenticator.
    final class CapturingAuthenticator: SessionAuthenticator {
        let requests = Mutex<[AuthenticationRequest]>([])
        func authenticate(_ request: AuthenticationRequest) async throws -> Bool {
            requests.withLock { $0.append(request) }
            return true
        }
    }

    /// What a value shows through every way Swift prints it.
    static func printed(_ value: some Any) -> [String] {
        var dumped = ""
        dump(value, to: &dumped)
        return ["\(value)", String(describing: value), String(reflecting: value), dumped]
    }

    @Test func requestsDoNotPrintCredentialsOrSecretConfig() async throws {
        var request = OpenSessionRequest(userId: "ada", sessionId: "nb-1")
        request.credentials = "tok-s3cr3t"
        request.config = ["spark.hadoop.fs.s3a.secret.key": Self.secret, "spark.app.name": "etl-app"]
        request.clientAddress = "10.1.2.3"
        for text in Self.printed(request) {
            #expect(!text.contains("tok-s3cr3t") && !text.contains(Self.secret), "\(text)")
            #expect(text.contains("ada") && text.contains("etl-app") && text.contains("10.1.2.3"), "\(text)")
            #expect(text.contains(Self.redacted), "\(text)")
        }
        // The value itself keeps them.
        #expect(request.credentials == "tok-s3cr3t")

        let authenticator = CapturingAuthenticator()
        let test = TestStore()
        try await test.withStore { $0.authenticator = authenticator } body: { store in
            _ = try await store.openSession(request)
        }
        let seen = try #require(authenticator.requests.withLock { $0.first })
        #expect(seen.credentials == "tok-s3cr3t")
        for text in Self.printed(seen) {
            #expect(!text.contains("tok-s3cr3t"), "\(text)")
            #expect(text.contains("ada") && text.contains("10.1.2.3") && text.contains(Self.redacted), "\(text)")
        }
    }

    @Test func sessionctlListingsAndEventsShowNoSecret() async throws {
        let db = CLIDatabase()
        let key = try await db.open(["--user", "ada", "--conf", "spark.hadoop.fs.s3a.secret.key=\(Self.secret)", "--conf", "spark.app.name=etl"])
        let changed = try await db.object(["conf", "set", key, "spark.hadoop.fs.s3a.secret.key=\(Self.newSecret)", "spark.sql.shuffle.partitions=200"])
        // The command prints the owner's session as it stands: the real values.
        #expect((changed["config"] as? [String: String])?["spark.hadoop.fs.s3a.secret.key"] == Self.newSecret)
        let got = try await db.object(["get", key])
        #expect((got["config"] as? [String: String])?["spark.hadoop.fs.s3a.secret.key"] == Self.newSecret)

        for arguments in [["events"], ["events", "--json"], ["list"], ["list", "--json"], ["current", "--json"]] {
            let result = try await db.run(arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            #expect(!result.stdout.contains(Self.secret) && !result.stdout.contains(Self.newSecret), "\(arguments): \(result.stdout)")
        }
        let events = try await db.run(["events", "--kind", "session.config_changed"])
        #expect(events.stdout.contains("new=200") && events.stdout.contains("new=\(Self.redacted)"), "\(events.stdout)")
        let listed = try await db.array(["list"])
        #expect(listed.compactMap { $0["config"] as? [String: String] } == [
            ["spark.hadoop.fs.s3a.secret.key": Self.redacted, "spark.app.name": "etl", "spark.sql.shuffle.partitions": "200"],
        ])
    }

    /// `sessionctl tree` shows the root's own config as it is and redacts the secret
    /// config of the other sessions in the tree, which may belong to other users.
    @Test func sessionctlTreeRedactsTheOtherSessionsConfig() async throws {
        let db = CLIDatabase()
        let parent = try await db.open(["--user", "ada", "--conf", "spark.hadoop.fs.s3a.secret.key=\(Self.secret)"])
        let child = try await db.open(["--user", "bob", "--conf", "spark.hadoop.fs.s3a.secret.key=\(Self.newSecret)"])
        _ = try await db.object(["link", parent, child])
        let tree = try await db.object(["tree", parent])
        let nodes = try #require(tree["nodes"] as? [[String: Any]])
        let configs = nodes.map { (($0["session"] as? [String: Any])?["config"] as? [String: String]) ?? [:] }
        #expect(configs == [["spark.hadoop.fs.s3a.secret.key": Self.secret], ["spark.hadoop.fs.s3a.secret.key": Self.redacted]])
    }
}
