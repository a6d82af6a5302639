import ArgumentParser

/// The commands under `sessionctl`, walked from its configuration.
enum CommandTree {
    /// The names leading from the root to `command` (`["exec", "set"]`), the first path
    /// found; empty for the root, `nil` for a type not in the tree.
    static func path(to command: any ParsableCommand.Type, from root: any ParsableCommand.Type = Sessionctl.self) -> [String]? {
        if ObjectIdentifier(command) == ObjectIdentifier(root) { return [] }
        for child in root.configuration.subcommands {
            if let rest = path(to: command, from: child) {
                return [child._commandName] + rest
            }
        }
        return nil
    }
}
