import SessionStoreCore

/// A transaction on one PostgreSQL connection: the repositories are views of it.
package struct PostgresTransaction: StorageTransaction {
    let db: PGConnection
    /// The transaction's time when a wall clock gives it; `nil` reads the database's.
    let fixedNow: Int64?

    /// The transaction's time: the database's, read once with its first statement, or the
    /// configured clock's (``PostgresTime``). Should the database's time fail to be read,
    /// the local clock stands in and the transaction's next statement fails.
    package var now: Int64 { fixedNow ?? db.databaseTime() ?? SystemWallClock().now() }

    package var sessions: any SessionRepository { SessionRecords(db: db) }
    package var details: any SessionDetailRepository { SessionDetailRecords(db: db) }
    package var links: any SessionLinkRepository { SessionLinkRecords(db: db) }
    package var listing: any SessionListRepository { SessionListRecords(db: db) }
    package var executions: any ExecutionRepository { ExecutionRecords(db: db) }
    package var queries: any StreamingQueryRepository { OwnedRecords(db: db) }
    package var resources: any OwnedResourceRepository { OwnedRecords(db: db) }
    package var events: any EventRepository { EventLog(db: db) }
    package var subscriptions: any SubscriptionRepository { SubscriptionRecords(db: db) }
    package var instances: any InstanceRepository { InstanceRecords(db: db) }
    package var storeState: any StoreStateRepository { StoreStateRecords(db: db) }

    /// The connection of a transaction this backend began.
    package static func connection(of transaction: any StorageTransaction) throws -> PGConnection {
        guard let transaction = transaction as? PostgresTransaction else {
            throw SessionStoreError(code: .storageError, message: "a transaction of another backend reached PostgreSQL")
        }
        return transaction.db
    }
}
