import SessionStoreCore

/// A transaction on one PostgreSQL connection: the repositories are views of it.
struct PostgresTransaction: StorageTransaction {
    let db: PGConnection
    let now: Int64

    var sessions: any SessionRepository { SessionRecords(db: db) }
    var details: any SessionDetailRepository { SessionDetailRecords(db: db) }
    var links: any SessionLinkRepository { SessionLinkRecords(db: db) }
    var listing: any SessionListRepository { SessionListRecords(db: db) }
    var executions: any ExecutionRepository { ExecutionRecords(db: db) }
    var queries: any StreamingQueryRepository { OwnedRecords(db: db) }
    var resources: any OwnedResourceRepository { OwnedRecords(db: db) }
    var events: any EventRepository { EventLog(db: db) }
    var subscriptions: any SubscriptionRepository { SubscriptionRecords(db: db) }
    var instances: any InstanceRepository { InstanceRecords(db: db) }
    var storeState: any StoreStateRepository { StoreStateRecords(db: db) }

    /// The connection of a transaction this backend began.
    static func connection(of transaction: any StorageTransaction) throws -> PGConnection {
        guard let transaction = transaction as? PostgresTransaction else {
            throw SessionStoreError(code: .storageError, message: "a transaction of another backend reached PostgreSQL")
        }
        return transaction.db
    }
}
