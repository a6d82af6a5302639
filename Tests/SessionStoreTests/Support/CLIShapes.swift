/// The JSON shapes `sessionctl --json` prints, one declaration per printed type, for
/// ``CLIJSONShapeTests``.
enum CLIShapes {
    static let session = JSONShape.object([
        "key": .string, "userId": .string, "sessionId": .nullable(.string), "dataSource": .string, "type": .string,
        "version": .integer, "identifier": .nullable(.string), "utcOffsetSeconds": .integer, "state": .string,
        "timeoutMs": .nullable(.integer), "createdAt": .time, "lastAccessAt": .time, "expireAt": .nullable(.time),
        "endedAt": .nullable(.time), "endReason": .nullable(.string), "clientAddress": .nullable(.string),
        "impersonatedUser": .nullable(.string), "details": .dictionary(.string), "config": .dictionary(.string),
        "parents": .array(.string), "children": .array(.string),
    ])

    static let opened = session.adding(["created": .boolean, "ignoredFields": .array(.string)])
    static let closed = session.adding(["closedByThisCall": .boolean])

    static let tree = JSONShape.object([
        "root": .string, "nodes": .array(.object(["session": session, "depth": .integer])),
        "edges": .array(.object(["parent": .string, "child": .string])), "truncated": .boolean,
    ])

    static let execution = JSONShape.object([
        "operationId": .string, "sessionKey": .string, "userId": .string, "jobTag": .string, "status": .string,
        "tags": .array(.string), "statement": .nullable(.string), "request": .nullable(.string), "reattachable": .boolean,
        "attached": .boolean, "timeoutMs": .nullable(.integer), "createdAt": .time, "startedAt": .nullable(.time),
        "lastAttachedAt": .time, "endedAt": .nullable(.time), "closedAt": .nullable(.time), "abandonedAt": .nullable(.time),
        "error": .nullable(.string),
    ])

    static let executionList = JSONShape.object(["executions": .array(execution), "lastEndedAt": .nullable(.time)])

    static let query = JSONShape.object([
        "queryId": .string, "runId": .string, "name": .nullable(.string), "sessionKey": .string,
        "operationId": .nullable(.string), "tags": .array(.string), "state": .string, "registeredAt": .time,
        "stoppedAt": .nullable(.time), "stopReason": .nullable(.string),
    ])

    static let resource = JSONShape.object([
        "sessionKey": .string, "kind": .string, "name": .string, "bytes": .integer, "createdAt": .time,
    ])

    /// A payload value: text, or a number, boolean or null where the kind declares one.
    static let event = JSONShape.object([
        "seq": .integer, "at": .time, "kind": .string, "sessionKey": .nullable(.string), "userId": .nullable(.string),
        "dataSource": .nullable(.string), "operationId": .nullable(.string),
        "payload": .dictionary(.oneOf([.string, .integer, .boolean, .nullable(.string)])),
    ])

    static let release = JSONShape.object([
        "seq": .integer, "releasedAt": .time, "sessionKey": .string, "userId": .nullable(.string),
        "dataSource": .nullable(.string), "kind": .string, "name": .string, "bytes": .integer,
        "createdAt": .nullable(.time), "reason": .nullable(.string),
    ])

    static let watched = JSONShape.object([
        "event": .string, "seq": .integer, "at": .time, "sessionKey": .string, "dataSource": .string,
        "userId": .nullable(.string), "state": .nullable(.string), "reason": .nullable(.string),
    ])

    static let keySample = JSONShape.object(["count": .integer, "keys": .array(.string)])

    static let sweep = JSONShape.object([
        "expiredSessions": keySample, "rearmedSessions": .integer, "sparedActiveSessions": .integer,
        "rowsExamined": .integer, "prunedSessions": .integer, "prunedEvents": .integer, "prunedSubscriptions": .integer,
        "clearedRequests": .integer,
        "maintenance": .object([
            "abandonedOperations": keySample, "timedOutOperations": keySample, "prunedQueries": .integer,
        ]),
    ])

    static let instance = JSONShape.object([
        "host": .string, "pid": .integer, "serving": .boolean, "lastHeartbeat": .time,
    ])

    static let serving: [String: JSONShape] = [
        "serving": .boolean, "instances": .array(instance), "sweeperLagMs": .nullable(.integer),
    ]

    static let status = JSONShape.object([
        "path": .string, "schemaVersion": .integer, "latestKnownVersion": .integer, "fileBytes": .integer,
        "walBytes": .integer, "journalMode": .string, "tables": .array(.object(["table": .string, "rows": .integer])),
    ]).adding(serving)

    static let total = JSONShape.object(["label": .string, "total": .integer])

    static let metrics = JSONShape.object([
        "sessions": .array(.object(["state": .string, "dataSource": .string, "count": .integer])), "opened": .integer,
        "ended": .array(total), "refusals": .array(total), "runningExecutions": .array(total),
        "executionTransitions": .array(total), "sweeperLagMs": .nullable(.integer), "sweeperPassMs": .nullable(.integer),
    ])

    static let top = metrics.adding(serving).adding(["path": .string, "at": .time, "events": .array(event)])

    static let logLine = JSONShape.object([
        "timestamp": .time, "level": .string, "label": .string, "message": .string, "metadata": .dictionary(.string),
    ])

    /// `load`: at least "op" and "key", and the fields of its kind of change.
    static let loadLine = JSONShape.openObject(["op": .string, "key": .string])

    static let demoLine = JSONShape.object(["type": .string, "text": .string, "fields": .dictionary(.string)])

    static let benchResult = JSONShape.object([
        "scenario": .string, "durability": .string, "groupCommit": .boolean, "concurrency": .integer,
        "sessions": .integer, "operations": .integer, "opsPerSecond": .number, "p50Micros": .number,
        "p99Micros": .number, "p999Micros": .number, "maxMicros": .number, "peakRSSBytes": .integer,
        "fileBytes": .integer, "notes": .dictionary(.string),
    ])

    static let config = JSONShape.array(.object(["name": .string, "value": .string, "default": .string, "summary": .string]))
    static let initialized = JSONShape.object(["path": .string, "schemaVersion": .integer])
    static let doctor = JSONShape.object([
        "integrity": .array(.string), "foreignKeyViolations": .array(.string), "migrationProblems": .array(.string),
    ])
    static let touched = JSONShape.object(["key": .string, "live": .boolean, "result": .string])
    static let interrupted = JSONShape.object(["interrupted": .array(.string), "stoppedQueries": .array(.string)])
}
