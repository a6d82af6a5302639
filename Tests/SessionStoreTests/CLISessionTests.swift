import Foundation
import SessionStore
import Testing

/// Checks of the JSON `sessionctl` prints.
enum CLIJSON {
    /// Whether `text` is an ISO-8601 UTC time with milliseconds, like `2026-01-02T03:04:05.678Z`.
    static func isISO8601Milliseconds(_ text: Any?) -> Bool {
        guard let text = text as? String else { return false }
        return text.wholeMatch(of: #/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/#) != nil
    }

    /// Whether `text` is a session key: a lower-case UUID.
    static func isSessionKey(_ text: Any?) -> Bool {
        guard let text = text as? String else { return false }
        return text.wholeMatch(of: #/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/#) != nil
    }

    /// Milliseconds since the epoch of an ISO-8601 JSON value.
    static func milliseconds(_ text: Any?, sourceLocation: SourceLocation = #_sourceLocation) throws -> Int64 {
        let string = try #require(text as? String, sourceLocation: sourceLocation)
        return try #require(Timestamp(iso8601: string), sourceLocation: sourceLocation).milliseconds
    }

    /// Whether two parsed JSON values are the same JSON.
    static func sameJSON(_ a: Any, _ b: Any) -> Bool {
        let options: JSONSerialization.WritingOptions = [.sortedKeys]
        guard let left = try? JSONSerialization.data(withJSONObject: a, options: options),
            let right = try? JSONSerialization.data(withJSONObject: b, options: options)
        else { return false }
        return left == right
    }

    /// Whether a JSON value is `null`.
    static func isNull(_ value: Any?) -> Bool {
        value is NSNull
    }
}

/// End-to-end tests of the session commands of the built `sessionctl`, run as a process.
@Suite struct CLISessionTests {
    static let sessionFields: Set<String> = [
        "key", "userId", "sessionId", "dataSource", "type", "version", "identifier", "utcOffsetSeconds", "state",
        "timeoutMs", "createdAt", "lastAccessAt", "expireAt", "endedAt", "endReason", "clientAddress",
        "impersonatedUser", "details", "config", "parents", "children",
    ]

    /// What `open --json` prints, with or without --reconnect: the session and the outcome.
    static let openedFields = sessionFields.union(["created", "ignoredFields"])

    @Test func openPrintsEveryFieldAndGetFindsItByKeyOrSessionId() async throws {
        let db = CLIDatabase()
        let before = Int64(Date().timeIntervalSince1970 * 1000)
        let child = try await db.open(["--user", "bob", "--data-source", "lake"])

        let session = try await db.object([
            "open", "--user", "ada", "--session-id", "nb-1", "--timeout", "5m", "--data-source", "lake",
            "--type", "Notebook", "--version", "3", "--identifier", "ident-1", "--utc-offset=-18000",
            "--detail", "color=blue", "--detail", "size=10", "--conf", "spark.x=1", "--conf", "mode=a=b",
            "--associate", child, "--client-address", "10.0.0.7", "--impersonate", "carol",
            "--set", "impersonation=any",
        ])
        let after = Int64(Date().timeIntervalSince1970 * 1000)

        #expect(Set(session.keys) == Self.openedFields)
        let key = try #require(session["key"] as? String)
        #expect(CLIJSON.isSessionKey(key))
        #expect(key != child)
        #expect(session["userId"] as? String == "ada")
        #expect(session["sessionId"] as? String == "nb-1")
        #expect(session["dataSource"] as? String == "lake")
        #expect(session["type"] as? String == "Notebook")
        #expect(session["version"] as? Int == 3)
        #expect(session["identifier"] as? String == "ident-1")
        #expect(session["utcOffsetSeconds"] as? Int == -18000)
        #expect(session["state"] as? String == "idle")
        #expect(session["timeoutMs"] as? Int == 300_000)
        #expect(CLIJSON.isISO8601Milliseconds(session["createdAt"]))
        #expect(CLIJSON.isISO8601Milliseconds(session["lastAccessAt"]))
        #expect(CLIJSON.isISO8601Milliseconds(session["expireAt"]))
        let created = try CLIJSON.milliseconds(session["createdAt"])
        #expect(created >= before - 1 && created <= after + 1)
        #expect(try CLIJSON.milliseconds(session["lastAccessAt"]) == created)
        // Expiry is last access + timeout, rounded up to the 1 s tick.
        let expire = try CLIJSON.milliseconds(session["expireAt"])
        #expect(expire >= created + 300_000 && expire < created + 301_000 && expire % 1000 == 0)
        #expect(CLIJSON.isNull(session["endedAt"]))
        #expect(CLIJSON.isNull(session["endReason"]))
        #expect(session["clientAddress"] as? String == "10.0.0.7")
        #expect(session["impersonatedUser"] as? String == "carol")
        #expect(session["details"] as? [String: String] == ["color": "blue", "size": "10"])
        #expect(session["config"] as? [String: String] == ["spark.x": "1", "mode": "a=b"])
        #expect(session["parents"] as? [String] == [])
        #expect(session["children"] as? [String] == [child])

        // The associate now names the new session as its parent.
        let childSession = try await db.object(["get", child])
        #expect(childSession["parents"] as? [String] == [key])
        #expect(childSession["userId"] as? String == "bob")

        // get by key, by upper-case key and by (user, session id) print the same session.
        let byKey = try await db.object(["get", key])
        // open adds its outcome to the session: "created" and "ignoredFields".
        #expect(CLIJSON.sameJSON(byKey, session.filter { Self.sessionFields.contains($0.key) }))
        let byUpperKey = try await db.object(["get", key.uppercased()])
        #expect(byUpperKey["key"] as? String == key)
        // A lookup by (user, session id) counts as an access, so only the access times may
        // differ from the lookup by key.
        var bySessionId = try await db.object(["get", "--user", "ada", "--session-id", "nb-1"])
        var byKeyWithoutAccess = byKey
        for field in ["lastAccessAt", "expireAt"] {
            bySessionId[field] = nil
            byKeyWithoutAccess[field] = nil
        }
        #expect(CLIJSON.sameJSON(bySessionId, byKeyWithoutAccess))

        // The text form shows the same session, one field a line.
        let text = try await db.run(["get", key])
        #expect(text.status == 0)
        #expect(text.stdout.contains("key:            \(key)"))
        #expect(text.stdout.contains("user:           ada"))
        #expect(text.stdout.contains("timeout:        5m"))
    }

    @Test func openDefaultsAndTimeouts() async throws {
        let db = CLIDatabase()
        let plain = try await db.object(["open", "--user", "ada"])
        #expect(Set(plain.keys) == Self.openedFields)
        #expect(CLIJSON.isNull(plain["sessionId"]))
        #expect(plain["dataSource"] as? String == "default")
        #expect(plain["type"] as? String == "Session")
        #expect(plain["version"] as? Int == 1)
        #expect(CLIJSON.isNull(plain["identifier"]))
        #expect(plain["utcOffsetSeconds"] as? Int == 0)
        #expect(plain["state"] as? String == "idle")
        #expect(plain["timeoutMs"] as? Int == 3_600_000)  // default-timeout: 1h
        #expect(CLIJSON.isNull(plain["clientAddress"]))
        #expect(CLIJSON.isNull(plain["impersonatedUser"]))
        #expect(plain["details"] as? [String: String] == [:])
        #expect(plain["config"] as? [String: String] == [:])
        #expect(plain["parents"] as? [String] == [])
        #expect(plain["children"] as? [String] == [])

        let short = try await db.object(["open", "--user", "ada", "--timeout", "30s"])
        #expect(short["timeoutMs"] as? Int == 30_000)
        let created = try CLIJSON.milliseconds(short["createdAt"])
        let expire = try CLIJSON.milliseconds(short["expireAt"])
        #expect(expire >= created + 30_000 && expire < created + 31_000)

        let never = try await db.object(["open", "--user", "ada", "--timeout", "never"])
        #expect(Set(never.keys) == Self.openedFields)
        #expect(CLIJSON.isNull(never["timeoutMs"]))
        #expect(CLIJSON.isNull(never["expireAt"]))
        #expect(CLIJSON.isISO8601Milliseconds(never["createdAt"]))

        // A negative UTC offset is an ordinary value, written the ordinary way.
        let west = try await db.run(["open", "--user", "ada", "--utc-offset", "-18000", "--json"])
        #expect(west.status == 0, "--utc-offset -18000 is refused: \(west.stderr)")
        #expect((try? west.json() as? [String: Any])?["utcOffsetSeconds"] as? Int == -18000)

        let badTimeout = try await db.run(["open", "--user", "ada", "--timeout", "soon"])
        #expect(badTimeout.status == 64)
        #expect(badTimeout.stderr.contains("--timeout"))
    }

    @Test func listCurrentTouchAndClose() async throws {
        let db = CLIDatabase()
        let first = try await db.open(["--user", "u1", "--data-source", "ds1"])
        let second = try await db.open(["--user", "u2", "--data-source", "ds1"])
        let third = try await db.open(["--user", "u1", "--data-source", "ds2"])

        let touched = try await db.object(["touch", first])
        #expect(Set(touched.keys) == ["key", "live", "result"])
        #expect(touched["key"] as? String == first)
        #expect(touched["live"] as? Bool == true)
        #expect(touched["result"] as? String == "live")

        let closed = try await db.object(["close", second, "--reason", "user logged out"])
        #expect(closed["key"] as? String == second)
        #expect(closed["state"] as? String == "closed")
        #expect(closed["endReason"] as? String == "user logged out")
        #expect(CLIJSON.isISO8601Milliseconds(closed["endedAt"]))
        #expect(CLIJSON.isNull(closed["expireAt"]))

        // Closing again exits 0, changes nothing and logs no second end.
        let again = try await db.object(["close", second, "--reason", "again"])
        #expect(again["state"] as? String == "closed")
        #expect(again["endReason"] as? String == "user logged out")
        #expect(again["endedAt"] as? String == closed["endedAt"] as? String)
        let ended = try await db.array(["events", "--kind", "session.ended"])
        #expect(ended.count == 1)
        #expect(ended.first?["sessionKey"] as? String == second)
        #expect(ended.first?["payload"] as? [String: String] == ["state": "closed", "reason": "user logged out"])

        let touchClosedJSON = try await db.run(["touch", second, "--json"])
        #expect(touchClosedJSON.status == 1)
        #expect(touchClosedJSON.error()?.code == "INVALID_HANDLE.SESSION_CLOSED", "\(touchClosedJSON.stderr)")
        let touchedClosed = try #require(try touchClosedJSON.json() as? [String: Any])
        #expect(touchedClosed["key"] as? String == second)
        #expect(touchedClosed["live"] as? Bool == false)
        #expect(touchedClosed["result"] as? String == "closed")
        let touchText = try await db.run(["touch", first])
        #expect(touchText.status == 0)
        #expect(touchText.stdout == "live\n")
        let touchClosedText = try await db.run(["touch", second])
        #expect(touchClosedText.status == 1)
        #expect(touchClosedText.stdout == "closed\n")
        #expect(touchClosedText.stderr.hasPrefix("error: INVALID_HANDLE.SESSION_CLOSED: "), "\(touchClosedText.stderr)")

        // Newest first.
        #expect(CLIDatabase.keys(try await db.array(["list"])) == [third, first])
        #expect(CLIDatabase.keys(try await db.array(["list", "--state", "live"])) == [third, first])
        #expect(CLIDatabase.keys(try await db.array(["list", "--state", "ended"])) == [second])
        #expect(CLIDatabase.keys(try await db.array(["list", "--state", "closed"])) == [second])
        #expect(CLIDatabase.keys(try await db.array(["list", "--state", "expired"])) == [])
        #expect(CLIDatabase.keys(try await db.array(["list", "--state", "all"])) == [third, second, first])
        #expect(CLIDatabase.keys(try await db.array(["list", "--user", "u1"])) == [third, first])
        #expect(CLIDatabase.keys(try await db.array(["list", "--data-source", "ds2"])) == [third])
        #expect(CLIDatabase.keys(try await db.array(["list", "--state", "all", "--data-source", "ds1"])) == [second, first])
        #expect(CLIDatabase.keys(try await db.array(["list", "--state", "all", "--limit", "1"])) == [third])
        let listed = try await db.array(["list", "--state", "all"])
        #expect(listed.allSatisfy { Set($0.keys) == Self.sessionFields })
        let badState = try await db.run(["list", "--state", "sleepy"])
        #expect(badState.status == 64)
        #expect(badState.stderr.contains("--state"))

        // current lists the live sessions of every data source, or of one, never the closed one.
        #expect(CLIDatabase.keys(try await db.array(["current", "--data-source", "ds1"])) == [first])
        #expect(CLIDatabase.keys(try await db.array(["current", "--data-source", "ds2"])) == [third])
        #expect(CLIDatabase.keys(try await db.array(["current", "--data-source", "default"])) == [])
        #expect(CLIDatabase.keys(try await db.array(["current"])) == [first, third])

        let closedFirst = try await db.object(["close", first, "--reason", "done"])
        #expect(closedFirst["state"] as? String == "closed")
        let touchedFirst = try await db.run(["touch", first, "--json"])
        #expect(touchedFirst.status == 1)
        #expect((try? touchedFirst.json() as? [String: Any])?["live"] as? Bool == false)
        #expect(CLIDatabase.keys(try await db.array(["current", "--data-source", "ds1"])) == [])
        #expect(CLIDatabase.keys(try await db.array(["list", "--state", "closed"])) == [second, first])
        #expect(try await db.array(["events", "--kind", "session.ended"]).count == 2)
        #expect(try await db.array(["events", "--kind", "session.ended", "--session", first]).count == 1)
    }

    @Test func detailsConfigIdentifierLinksAndEvents() async throws {
        let db = CLIDatabase()
        let parent = try await db.open(["--user", "ada", "--conf", "k=v1"])

        let withDetails = try await db.object(["details", "set", parent, "a=1", "b=2"])
        #expect(withDetails["details"] as? [String: String] == ["a": "1", "b": "2"])
        let unset = try await db.object(["details", "unset", parent, "a"])
        #expect(unset["details"] as? [String: String] == ["b": "2"])

        let configured = try await db.object(["conf", "set", parent, "k=v2", "n=x"])
        #expect(configured["config"] as? [String: String] == ["k": "v2", "n": "x"])
        let changes = try await db.array(["events", "--session", parent, "--kind", "session.config_changed"])
        let payloads = changes.compactMap { $0["payload"] as? [String: String] }
        #expect(payloads.count == 2)
        #expect(payloads.contains(["name": "k", "old": "v1", "new": "v2"]))
        #expect(payloads.contains(["name": "n", "new": "x"]))
        #expect(changes.allSatisfy { $0["sessionKey"] as? String == parent && CLIJSON.isISO8601Milliseconds($0["at"]) })

        let renamed = try await db.object(["identifier", parent, "ident-2"])
        #expect(renamed["identifier"] as? String == "ident-2")
        #expect(try await db.object(["get", parent])["identifier"] as? String == "ident-2")

        // parent → child → grandchild: the tree lists each session once, with its links.
        let child = try await db.open(["--user", "bob"])
        let grandchild = try await db.open(["--user", "bob"])
        let linked = try await db.object(["link", parent, child])
        #expect(linked["key"] as? String == parent)
        #expect(linked["children"] as? [String] == [child])
        _ = try await db.object(["link", child, grandchild])
        let tree = try await db.object(["tree", parent])
        #expect(tree["root"] as? String == parent)
        let nodes = try #require(tree["nodes"] as? [[String: Any]])
        #expect(nodes.map { ($0["session"] as? [String: Any])?["key"] as? String } == [parent, child, grandchild])
        #expect(nodes.map { $0["depth"] as? Int } == [0, 1, 2])
        let edges = try #require(tree["edges"] as? [[String: String]])
        #expect(edges == [["parent": parent, "child": child], ["parent": child, "child": grandchild]])
        #expect(tree["truncated"] as? Bool == false)
        let text = try await db.run(["tree", parent])
        #expect(text.status == 0 && text.stderr.isEmpty)
        #expect(text.stdout == "\(parent)  ada  idle\n  \(child)  bob  idle\n    \(grandchild)  bob  idle\n")

        // A link that would close a loop is refused and changes nothing.
        #expect(try await db.failure(["link", child, parent]) == "INVALID_ARGUMENT.LINK_CYCLE")
        #expect(try await db.failure(["link", grandchild, parent]) == "INVALID_ARGUMENT.LINK_CYCLE")
        #expect(try await db.failure(["link", parent, parent]) == "INVALID_ARGUMENT.LINK_CYCLE")
        #expect(try await db.object(["get", parent])["parents"] as? [String] == [])

        // events: oldest first with increasing seq; --since and --limit page through them.
        let all = try await db.array(["events"])
        let seqs = all.compactMap { $0["seq"] as? Int }
        #expect(seqs.count == all.count && all.count >= 8)
        #expect(seqs == seqs.sorted() && Set(seqs).count == seqs.count)
        #expect(all.first?["kind"] as? String == "session.started")
        let page = try await db.array(["events", "--since", "\(seqs[1])", "--limit", "3"])
        #expect(page.compactMap { $0["seq"] as? Int } == Array(seqs[2..<5]))
        #expect(try await db.array(["events", "--since", "\(seqs[seqs.count - 1])"]).isEmpty)
        #expect(try await db.array(["events", "--limit", "2"]).compactMap { $0["seq"] as? Int } == Array(seqs[0..<2]))
        let kinds = Set(all.compactMap { $0["kind"] as? String })
        #expect(kinds.isSuperset(of: [
            "session.started", "session.details_updated", "session.details_removed", "session.config_changed",
            "session.identifier_changed", "session.linked",
        ]))
    }
}
