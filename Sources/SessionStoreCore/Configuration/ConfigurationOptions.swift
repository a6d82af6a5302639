
/// The configuration options by name, as `sessionctl --set NAME=VALUE`, an `--options-file`
/// JSON file, or a service's own settings set them.
///
/// ```swift
/// var configuration = SessionStoreConfiguration()
/// try configuration.set("max-sessions-per-user", to: "10")
/// try configuration.set("default-timeout", to: "30m")
/// ```
///
/// Durations are written `250ms`, `30s`, `5m`, `2h` or `7d`; limits take a count or
/// `unlimited`.
public struct ConfigurationOption: Sendable {
    /// The kebab-case name.
    public let name: String
    /// What it does and which system's setting it mirrors.
    public let summary: String
    let get: @Sendable (SessionStoreConfiguration) -> String
    let set: @Sendable (inout SessionStoreConfiguration, String) throws(SessionStoreError) -> Void
    /// Refuses a value set through the property rather than by name that `set` would
    /// refuse as text, so a store never opens with it.
    let check: @Sendable (SessionStoreConfiguration) throws(SessionStoreError) -> Void

    init(
        name: String, summary: String,
        get: @escaping @Sendable (SessionStoreConfiguration) -> String,
        set: @escaping @Sendable (inout SessionStoreConfiguration, String) throws(SessionStoreError) -> Void,
        check: @escaping @Sendable (SessionStoreConfiguration) throws(SessionStoreError) -> Void = { _ in }
    ) {
        self.name = name
        self.summary = summary
        self.get = get
        self.set = set
        self.check = check
    }

    /// The option's value in `configuration`, as text.
    public func value(in configuration: SessionStoreConfiguration) -> String {
        get(configuration)
    }
}

extension SessionStoreConfiguration {
    /// Sets the option `name` from text.
    ///
    /// - Throws: `INVALID_ARGUMENT.CONFIG_OPTION` for an unknown name,
    ///   `INVALID_ARGUMENT.CONFIG_VALUE` for a value the option does not take; both name
    ///   the option.
    public mutating func set(_ name: String, to value: String) throws {
        guard let option = Self.options.first(where: { $0.name == name }) else {
            throw SessionStoreError.invalidArgument(.invalidConfigOption, "unknown configuration option \(name.debugDescriptionPrefix)")
        }
        try option.set(&self, value)
    }

    /// Every option that can be set by name, in documentation order.
    public static let options: [ConfigurationOption] = [
        duration("default-timeout", "Timeout of a session opened without one, or `never` (Spark Connect's idle session timeout).",
                 get: { $0.defaultTimeout.description },
                 set: { configuration, text throws(SessionStoreError) in
                     configuration.defaultTimeout = text == "never" ? .never : .after(.milliseconds(try parseDuration(text, "default-timeout")))
                 },
                 check: { configuration throws(SessionStoreError) in
                     if case .after(let duration) = configuration.defaultTimeout {
                         _ = try duration.milliseconds(field: .invalidConfigValue, name: "option default-timeout")
                     }
                 }),
        duration("min-timeout", "Shorter requested timeouts are raised to this (ZooKeeper's minSessionTimeout).", \.minTimeout),
        duration("max-timeout", "Longer requested timeouts are lowered to this (ZooKeeper's maxSessionTimeout).", \.maxTimeout),
        boolean("allow-never-timeout", "Whether a session may ask never to expire.", \.allowNeverTimeout),
        duration("tick", "Expiry granularity: expiry is rounded up to whole ticks (ZooKeeper's tickTime).", \.tick, minimum: 1),
        duration("tombstone-retention", "How long ended sessions are kept (Spark Connect's closed-session cache, unbounded in count).", \.tombstoneRetention),
        duration("event-retention", "How long events are kept.", \.eventRetention),
        duration(
            "subscription-retention", "A durable subscription not acknowledged for this long is forgotten.",
            \.subscriptionRetention),
        duration("detached-timeout", "A detached execution not reattached within this is abandoned (Spark Connect's detachedTimeout).", \.detachedTimeout),
        duration("streaming-query-retention", "How long stopped streaming queries stay listed.", \.streamingQueryRetention),
        boolean("running-sessions-do-not-expire", "Whether expiry spares a session with an attached running execution (Hive's check-operation rule).", \.runningSessionsDoNotExpire),
        ConfigurationOption(
            name: "durability", summary: "`normal` (survives a process crash) or `full` (fsync per commit, survives power loss).",
            get: { $0.durability.rawValue },
            set: { configuration, text throws(SessionStoreError) in
                guard let value = Durability(rawValue: text) else { throw badValue("durability", text, "normal or full") }
                configuration.durability = value
            }),
        duration(
            "busy-timeout", "How long to wait for another process's write lock; SQLite waits at most Int32.max ms (24.8 days).",
            \.busyTimeout),
        ConfigurationOption(
            name: "recovery-mode", summary: "After the last serving process went away: `rearm` (a full timeout for sessions due since, ZooKeeper's rule) or `strict`.",
            get: { $0.recoveryMode.rawValue },
            set: { configuration, text throws(SessionStoreError) in
                guard let value = RecoveryMode(rawValue: text) else { throw badValue("recovery-mode", text, "rearm or strict") }
                configuration.recoveryMode = value
            }),
        duration("instance-timeout", "An instance on another host silent this long is taken for dead.", \.instanceTimeout, minimum: 1),
        duration("heartbeat-interval", "How often an open store records its heartbeat.", \.heartbeatInterval, minimum: 1),
        ConfigurationOption(
            name: "instance-host", summary: "The host identity instances register with (default: the host name); one per host sharing a store.",
            get: { $0.hostIdentity },
            set: { configuration, text throws(SessionStoreError) in
                try checkInstanceHost(text)
                configuration.instanceHost = text
            },
            check: { configuration throws(SessionStoreError) in
                if let host = configuration.instanceHost { try checkInstanceHost(host) }
            }),
        ConfigurationOption(
            name: "max-sweep-lag-ticks", summary: "Storm guard: a sweeper this many ticks behind records a storm-guard event and a warning.",
            get: { "\($0.maxSweepLagTicks)" },
            set: { configuration, text throws(SessionStoreError) in
                guard let value = Int64(text), value >= 1 else { throw badValue("max-sweep-lag-ticks", text, "a whole number of at least 1") }
                configuration.maxSweepLagTicks = value
            },
            check: { configuration throws(SessionStoreError) in
                guard configuration.maxSweepLagTicks >= 1 else {
                    throw badValue("max-sweep-lag-ticks", "\(configuration.maxSweepLagTicks)", "a whole number of at least 1")
                }
            }),
        count("sweep-batch-size", "Sessions one expiry transaction ends at most.", \.sweepBatchSize, range: 1...100_000),
        count("reader-count", "Reader connections beside the writer.", \.readerCount, range: 1...64),
        count("max-write-batch", "Most write requests one transaction groups; 1 turns group commit off.", \.maxWriteBatch, range: 1...100_000),
        count(
            "max-pending-writes", "Most calls waiting for the writer; one more fails at once with STORAGE.OVERLOADED.", \.maxPendingWrites,
            range: 1...10_000_000),
        count(
            "max-pending-reads", "Most reads waiting for a reader connection; one more fails at once with STORAGE.OVERLOADED.",
            \.maxPendingReads, range: 1...10_000_000),
        limit("max-sessions", "Live sessions in the store.", \.limits.maxSessions),
        limit("max-sessions-per-user", "Live sessions of one user (Hive's limit.connections.per.user).", \.limits.maxSessionsPerUser),
        limit(
            "max-sessions-per-address",
            "Live sessions from one client address (Hive's ...per.ipaddress); skipped for an open that gives no address.",
            \.limits.maxSessionsPerAddress),
        limit(
            "max-sessions-per-user-address",
            "Live sessions of one user from one address (Hive's ...per.user.ipaddress); skipped for an open that gives no address.",
            \.limits.maxSessionsPerUserAddress),
        limit("max-sessions-per-data-source", "Live sessions of one data source.", \.limits.maxSessionsPerDataSource),
        limit("max-concurrent-executions-per-session", "Running executions in one session.", \.limits.maxConcurrentExecutionsPerSession),
        limit("max-streaming-queries-per-session", "Active streaming queries in one session.", \.limits.maxStreamingQueriesPerSession),
        ConfigurationOption(
            name: "max-resource-bytes-per-session", summary: "Total bytes of the resources one session owns.",
            get: { $0.limits.maxResourceBytesPerSession.map(String.init) ?? "unlimited" },
            set: { configuration, text throws(SessionStoreError) in
                if text == "unlimited" {
                    configuration.limits.maxResourceBytesPerSession = nil
                    return
                }
                guard let value = Int64(text), value >= 0 else {
                    throw badValue("max-resource-bytes-per-session", text, "a whole number of at least 0, or unlimited")
                }
                configuration.limits.maxResourceBytesPerSession = value
            },
            check: { configuration throws(SessionStoreError) in
                if let value = configuration.limits.maxResourceBytesPerSession, value < 0 {
                    throw badValue("max-resource-bytes-per-session", "\(value)", "a whole number of at least 0, or unlimited")
                }
            }),
        count("max-payload-bytes", "Bytes of an execution's statement or request.", \.limits.maxPayloadBytes, range: 0...268_435_456),
        count("max-details-per-session", "Details one session may hold.", \.limits.maxDetailsPerSession, range: 0...1_000_000),
        count("max-config-per-session", "Config entries one session may hold.", \.limits.maxConfigPerSession, range: 0...1_000_000),
        count("max-tags-per-execution", "Tags one execution or streaming query may carry.", \.limits.maxTagsPerExecution, range: 0...100_000),
        count(
            "max-resources-per-session", "Resources one session owns at once, whatever their size.", \.limits.maxResourcesPerSession,
            range: 0...10_000_000),
        count(
            "max-unclosed-executions-per-session", "Executions one session keeps unclosed, running or ended; closing one makes room.",
            \.limits.maxUnclosedExecutionsPerSession, range: 0...1_000_000),
        count(
            "max-queries-per-session", "Streaming queries one session keeps, active or stopped.", \.limits.maxQueriesPerSession,
            range: 0...1_000_000),
        count("max-id-bytes", "UTF-8 bytes of an id or name.", \.limits.maxIdBytes, range: 1...1_048_576),
        count("max-value-bytes", "UTF-8 bytes of a detail or config value.", \.limits.maxValueBytes, range: 0...67_108_864),
        count("max-links-per-session", "Links one session may take part in, as parent or child.", \.limits.maxLinksPerSession, range: 0...1_000_000),
        count("max-tree-nodes", "Sessions one tree read returns at most; past it the tree is marked truncated.", \.limits.maxTreeNodes, range: 1...1_000_000),
        count("max-tree-depth", "Links from the root a tree read follows at most; deeper sessions are left out and the tree marked truncated.", \.limits.maxTreeDepth, range: 0...1_000_000),
        ConfigurationOption(
            name: "impersonation", summary: "Who may act as another user: `none`, `any`, or `proxy:USER,USER` (Hive's proxy users).",
            get: { configuration in
                switch configuration.impersonationPolicy {
                case is AnyImpersonation: "any"
                case let policy as ProxyUsersImpersonation: "proxy:" + policy.proxyUsers.sorted().joined(separator: ",")
                case is NoImpersonation: "none"
                default: "custom"
                }
            },
            set: { configuration, text throws(SessionStoreError) in
                switch text {
                case "none": configuration.impersonationPolicy = NoImpersonation()
                case "any": configuration.impersonationPolicy = AnyImpersonation()
                case _ where text.hasPrefix("proxy:"):
                    let users = text.dropFirst("proxy:".count).split(separator: ",").map(String.init)
                    configuration.impersonationPolicy = ProxyUsersImpersonation(proxyUsers: Set(users))
                default: throw badValue("impersonation", text, "none, any or proxy:USER,USER")
                }
            }),
        ConfigurationOption(
            name: "redaction-pattern",
            summary: "Config names whose values events, logs and listings redact: a regular expression, case-insensitive (Spark's spark.redaction.regex).",
            get: { $0.redactionPattern },
            set: { configuration, text throws(SessionStoreError) in
                _ = try Redaction(pattern: text)
                configuration.redactionPattern = text
            }),
    ]

    private static func parseDuration(_ text: String, _ name: String) throws(SessionStoreError) -> Int64 {
        guard let milliseconds = DurationText.parse(milliseconds: text) else {
            throw badValue(name, text, "a duration such as 250ms, 30s, 5m, 2h or 7d")
        }
        return milliseconds
    }

    private static func badValue(_ name: String, _ text: String, _ expected: String) -> SessionStoreError {
        .invalidArgument(.invalidConfigValue, "option \(name) takes \(expected), not \(text.debugDescriptionPrefix)")
    }

    private static func duration(
        _ name: String, _ summary: String,
        get: @escaping @Sendable (SessionStoreConfiguration) -> String,
        set: @escaping @Sendable (inout SessionStoreConfiguration, String) throws(SessionStoreError) -> Void,
        check: @escaping @Sendable (SessionStoreConfiguration) throws(SessionStoreError) -> Void
    ) -> ConfigurationOption {
        ConfigurationOption(name: name, summary: summary, get: get, set: set, check: check)
    }

    private static func duration(
        _ name: String, _ summary: String, _ keyPath: WritableKeyPath<SessionStoreConfiguration, Duration> & Sendable,
        minimum: Int64 = 0
    ) -> ConfigurationOption {
        ConfigurationOption(
            name: name, summary: summary,
            get: { DurationText.format(milliseconds: $0[keyPath: keyPath].wholeMilliseconds) },
            set: { configuration, text throws(SessionStoreError) in
                let value = try parseDuration(text, name)
                guard value >= minimum else { throw badValue(name, text, "a duration of at least \(minimum) ms") }
                configuration[keyPath: keyPath] = .milliseconds(value)
            },
            check: { configuration throws(SessionStoreError) in
                let duration = configuration[keyPath: keyPath]
                let value = try duration.milliseconds(field: .invalidConfigValue, name: "option \(name)")
                guard value >= minimum else { throw badValue(name, "\(duration)", "a duration of at least \(minimum) ms") }
            })
    }

    private static func boolean(
        _ name: String, _ summary: String, _ keyPath: WritableKeyPath<SessionStoreConfiguration, Bool> & Sendable
    ) -> ConfigurationOption {
        ConfigurationOption(
            name: name, summary: summary,
            get: { "\($0[keyPath: keyPath])" },
            set: { configuration, text throws(SessionStoreError) in
                guard let value = Bool(text) else { throw badValue(name, text, "true or false") }
                configuration[keyPath: keyPath] = value
            })
    }

    private static func count(
        _ name: String, _ summary: String, _ keyPath: WritableKeyPath<SessionStoreConfiguration, Int> & Sendable,
        range: ClosedRange<Int>
    ) -> ConfigurationOption {
        ConfigurationOption(
            name: name, summary: summary,
            get: { "\($0[keyPath: keyPath])" },
            set: { configuration, text throws(SessionStoreError) in
                guard let value = Int(text), range.contains(value) else {
                    throw badValue(name, text, "a whole number in \(range.lowerBound)...\(range.upperBound)")
                }
                configuration[keyPath: keyPath] = value
            },
            check: { configuration throws(SessionStoreError) in
                let value = configuration[keyPath: keyPath]
                guard range.contains(value) else {
                    throw badValue(name, "\(value)", "a whole number in \(range.lowerBound)...\(range.upperBound)")
                }
            })
    }

    private static func limit(
        _ name: String, _ summary: String, _ keyPath: WritableKeyPath<SessionStoreConfiguration, Int?> & Sendable
    ) -> ConfigurationOption {
        ConfigurationOption(
            name: name, summary: summary,
            get: { $0[keyPath: keyPath].map(String.init) ?? "unlimited" },
            set: { configuration, text throws(SessionStoreError) in
                if text == "unlimited" {
                    configuration[keyPath: keyPath] = nil
                    return
                }
                guard let value = Int(text), value >= 0 else {
                    throw badValue(name, text, "a whole number of at least 0, or unlimited")
                }
                configuration[keyPath: keyPath] = value
            },
            check: { configuration throws(SessionStoreError) in
                if let value = configuration[keyPath: keyPath], value < 0 {
                    throw badValue(name, "\(value)", "a whole number of at least 0, or unlimited")
                }
            })
    }
}

/// A host identity: 1 to 255 characters, no control characters.
private func checkInstanceHost(_ text: String) throws(SessionStoreError) {
    guard !text.isEmpty, text.utf8.count <= 255, !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
    else {
        throw SessionStoreError.invalidArgument(
            .invalidConfigValue,
            "option instance-host takes 1 to 255 bytes without control characters, not \(text.debugDescriptionPrefix)")
    }
}
