import Foundation
import SessionStore

extension Output {
    /// A line of the text tree still to print: a session reached along a link, or the
    /// count of children the tree left out, printed after the shown ones.
    private enum TreeLine {
        case session(key: String, depth: Int)
        case omitted(count: Int, depth: Int)
    }

    /// `tree` for people, depth first from the root with two spaces a level: `KEY  USER
    /// STATE`. Each session is printed once; reached again through another parent it
    /// prints as `KEY  (shown above)`. Children a cut-off tree left out print as one
    /// `… N more` line under their parent. Walks with an explicit stack: no recursion,
    /// however deep the tree.
    func printTree(_ tree: SessionTree) throws {
        if json {
            try printJSON(tree)
            return
        }
        let sessions = Dictionary(tree.nodes.map { ($0.session.key, $0.session) }, uniquingKeysWith: { first, _ in first })
        var children: [String: [String]] = [:]
        for edge in tree.edges { children[edge.parent, default: []].append(edge.child) }
        var printed: Set<String> = []
        var stack: [TreeLine] = [.session(key: tree.root, depth: 0)]
        while let line = stack.popLast() {
            switch line {
            case .omitted(let count, let depth):
                Output.printLine("\(String(repeating: "  ", count: depth))… \(count) more")
            case .session(let key, let depth):
                let indent = String(repeating: "  ", count: depth)
                guard let session = sessions[key] else { continue }
                guard printed.insert(key).inserted else {
                    Output.printLine("\(indent)\(key)  (shown above)")
                    continue
                }
                Output.printLine("\(indent)\(key)  \(session.userId)  \(session.state.rawValue)")
                let shown = children[key] ?? []
                if session.children.count > shown.count {
                    stack.append(.omitted(count: session.children.count - shown.count, depth: depth + 1))
                }
                stack += shown.reversed().map { .session(key: $0, depth: depth + 1) }
            }
        }
        if tree.truncated {
            FileHandle.standardError.write(
                Data("the tree was cut off at max-tree-depth or max-tree-nodes; --set them higher to see more\n".utf8))
        }
    }
}
