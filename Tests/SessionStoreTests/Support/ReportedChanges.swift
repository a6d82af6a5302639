import Foundation
import SessionStore
import Testing

/// Every change the loads printed before they died, accumulated over rounds on one file.
struct ReportedChanges {
    struct ReportedExecution {
        var sessionKey: String
        var reattachable: Bool
        var status: ExecutionStatus
        var round: Int
    }

    var opened: [String: (userId: String, dataSource: String)] = [:]
    var touched: [String: Bool] = [:]
    /// The last reported value of the detail `step`, by session key.
    var details: [String: String] = [:]
    var closed: Set<String> = []
    /// By "key operationId".
    var executions: [String: ReportedExecution] = [:]

    mutating func apply(_ lines: [String], round: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        for line in lines {
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)",
                sourceLocation: sourceLocation)
            let op = try #require(object["op"] as? String, "no op: \(line)", sourceLocation: sourceLocation)
            if op == "holding" { continue }
            let key = try #require(object["key"] as? String, "no key: \(line)", sourceLocation: sourceLocation)
            switch op {
            case "open":
                opened[key] = (object["userId"] as? String ?? "", object["dataSource"] as? String ?? "")
            case "touch":
                touched[key] = object["live"] as? Bool ?? false
            case "details":
                #expect(object["name"] as? String == "step", "\(line)", sourceLocation: sourceLocation)
                details[key] = object["value"] as? String
            case "close":
                closed.insert(key)
            case "exec-create", "exec-status":
                let operationId = try #require(object["operationId"] as? String, "\(line)", sourceLocation: sourceLocation)
                let statusText = try #require(object["status"] as? String, "\(line)", sourceLocation: sourceLocation)
                let status = try #require(ExecutionStatus(rawValue: statusText), "\(line)", sourceLocation: sourceLocation)
                let id = key + " " + operationId
                if op == "exec-create" {
                    #expect(executions[id] == nil, "operation reported created twice: \(line)", sourceLocation: sourceLocation)
                    executions[id] = ReportedExecution(
                        sessionKey: key, reattachable: object["reattachable"] as? Bool ?? false, status: status, round: round)
                } else {
                    let previous = try #require(executions[id], "status before create: \(line)", sourceLocation: sourceLocation)
                    #expect(previous.status.canMove(to: status), "\(line) after \(previous.status)", sourceLocation: sourceLocation)
                    executions[id]?.status = status
                }
            default:
                Issue.record("unknown op in load output: \(line)", sourceLocation: sourceLocation)
            }
            if op != "open" {
                #expect(opened[key] != nil, "\(op) reported before open: \(line)", sourceLocation: sourceLocation)
            }
        }
    }
}
