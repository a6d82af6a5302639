extension OpenSessionRequest: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Every field, with `credentials` and the config values whose names match
    /// ``SessionStoreConfiguration/defaultRedactionPattern`` replaced by
    /// ``SessionStoreConfiguration/redactedValue``: what `dump` shows, so a request in a
    /// log line or a debugger never shows a secret. A new stored property needs its entry
    /// here.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "userId": userId,
                "sessionId": sessionId as Any,
                "dataSource": dataSource,
                "type": type,
                "version": version,
                "identifier": identifier as Any,
                "utcOffsetSeconds": utcOffsetSeconds,
                "details": details,
                "config": Redaction.standard.config(config),
                "associates": associates,
                "clientAddress": clientAddress as Any,
                "impersonatedUser": impersonatedUser as Any,
                "credentials": credentials.map { _ in SessionStoreConfiguration.redactedValue } as Any,
                "timeout": timeout as Any,
                "reconnect": reconnect,
            ],
            displayStyle: .struct)
    }

    /// The fields as Swift prints a struct, redacted as ``customMirror`` is.
    public var description: String { customMirror.structDescription("OpenSessionRequest") }

    /// The same as ``description``.
    public var debugDescription: String { description }
}
