extension AuthenticationRequest: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Every field, with `credentials` replaced by
    /// ``SessionStoreConfiguration/redactedValue``: what `dump` shows, so an
    /// authenticator that logs its request never logs a password or a token.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "userId": userId,
                "credentials": credentials.map { _ in SessionStoreConfiguration.redactedValue } as Any,
                "clientAddress": clientAddress as Any,
            ],
            displayStyle: .struct)
    }

    /// The fields as Swift prints a struct, redacted as ``customMirror`` is.
    public var description: String { customMirror.structDescription("AuthenticationRequest") }

    /// The same as ``description``.
    public var debugDescription: String { description }
}
