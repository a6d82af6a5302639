import Foundation

extension SessionStoreConfiguration {
    /// The default ``redactionPattern``: names containing `secret`, `password`, `token`,
    /// `access.key` (also `access_key`, `access-key`, `accesskey`) or `credential`, in any
    /// case. It covers Spark's `spark.redaction.regex` default.
    public static let defaultRedactionPattern = "(?i)secret|password|token|access[._-]?key|credential"

    /// What a redacted value reads as, in events, log lines, listings and descriptions
    /// (Spark's marker).
    public static let redactedValue = "*********(redacted)"
}

/// The compiled ``SessionStoreConfiguration/redactionPattern``: which config values are
/// kept out of what others read. A name is redacted when the pattern matches anywhere in
/// it, case-insensitively.
///
/// It applies where a value leaves the owner: `session.config_changed` events are written
/// redacted (the event log is read by every subscriber and by anyone with the file), and
/// `sessionctl` redacts the sessions it lists. The stored config keeps the real values,
/// which the owner reads through ``SessionStore/session(key:)``.
package struct Redaction: Sendable {
    /// `nil` only when the default pattern could not be compiled: then every name is
    /// redacted, so a failure never shows a value.
    private let expression: NSRegularExpression?

    /// Compiles `pattern` (an ICU regular expression, as `NSRegularExpression` reads it).
    ///
    /// - Throws: `INVALID_ARGUMENT.CONFIG_VALUE` naming the option when `pattern` is not a
    ///   regular expression (an empty one included).
    package init(pattern: String) throws(SessionStoreError) {
        do {
            expression = try NSRegularExpression(pattern: pattern, options: [.caseInsensitive])
        } catch {
            throw SessionStoreError.invalidArgument(
                .invalidConfigValue,
                "option redaction-pattern takes a regular expression, not \(pattern.debugDescriptionPrefix)")
        }
    }

    private init(expression: NSRegularExpression?) {
        self.expression = expression
    }

    /// The default pattern, compiled once.
    package static let standard =
        (try? Redaction(pattern: SessionStoreConfiguration.defaultRedactionPattern)) ?? Redaction(expression: nil)

    /// Whether the value of config `name` is redacted.
    package func redacts(_ name: String) -> Bool {
        guard let expression else { return true }
        return expression.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil
    }

    /// `value`, or the redacted marker when `name` is redacted.
    package func value(_ value: String, named name: String) -> String {
        redacts(name) ? SessionStoreConfiguration.redactedValue : value
    }

    /// `config` with the values of redacted names replaced by the marker.
    package func config(_ config: [String: String]) -> [String: String] {
        var redacted = config
        for name in config.keys where redacts(name) {
            redacted[name] = SessionStoreConfiguration.redactedValue
        }
        return redacted
    }

    /// `session` with its config redacted, for a listing that others read.
    package func session(_ session: Session) -> Session {
        var redacted = session
        redacted.config = config(session.config)
        return redacted
    }

    /// `tree` with the config of every session but its root redacted: the descendants
    /// and other parents' sessions may belong to other users.
    package func tree(_ tree: SessionTree) -> SessionTree {
        let nodes = tree.nodes.map { node in
            node.session.key == tree.root ? node : SessionTreeNode(session: session(node.session), depth: node.depth)
        }
        return SessionTree(root: tree.root, nodes: nodes, edges: tree.edges, truncated: tree.truncated)
    }
}

extension Mirror {
    /// `TypeName(label: value, ...)` from the children, as Swift prints a struct by
    /// default: for a type whose mirror leaves out or redacts what it must not show.
    func structDescription(_ typeName: String) -> String {
        let fields = children.map { "\($0.label ?? "_"): \(String(reflecting: $0.value))" }
        return "\(typeName)(\(fields.joined(separator: ", ")))"
    }
}
