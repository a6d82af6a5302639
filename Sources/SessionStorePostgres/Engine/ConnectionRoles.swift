import Foundation
import SessionStoreCore

/// The writer thread's connection and its batches.
final class Writer: @unchecked Sendable {
    let conninfo: String
    let lockKey: Int64
    let channel: String
    let clock: TransactionClock
    let listener: NotificationListener
    let observer: (@Sendable (String) -> Void)?
    var connection: PGConnection?

    init(
        conninfo: String, lockKey: Int64, channel: String, clock: TransactionClock, listener: NotificationListener,
        observer: (@Sendable (String) -> Void)?
    ) {
        self.conninfo = conninfo
        self.lockKey = lockKey
        self.channel = channel
        self.clock = clock
        self.listener = listener
        self.observer = observer
    }

    /// A writer's transaction holds the store's write lock: should its client vanish
    /// mid-transaction (a host cut off the network, a stopped process), the server ends
    /// the session after 30 s idle in it, and the other hosts write again. A live
    /// writer's statements follow each other within milliseconds.
    static let setup = "SET idle_in_transaction_session_timeout = '30s'"

    /// Runs `jobs` in one transaction and resumes their callers after it ends.
    func run(_ jobs: [WriteJob]) {
        var attempt = 0
        while true {
            attempt += 1
            do {
                let connection = try begin()
                var committedAny = false
                if jobs.count == 1, let job = jobs.first {
                    if let error = job.run(PostgresTransaction(db: connection, fixedNow: clock.fixedNow())) {
                        try Self.rethrowIfFatal(error)
                        try rollback(connection)
                        job.finish(nil)
                        return
                    }
                    if let failure = connection.timeFailure { throw failure }
                    committedAny = true
                } else {
                    for job in jobs {
                        try connection.executeScript(sql: "SAVEPOINT body")
                        if let error = job.run(PostgresTransaction(db: connection, fixedNow: clock.fixedNow())) {
                            try Self.rethrowIfFatal(error)
                            try connection.executeScript(sql: "ROLLBACK TO SAVEPOINT body; RELEASE SAVEPOINT body")
                        } else {
                            if let failure = connection.timeFailure { throw failure }
                            try connection.executeScript(sql: "RELEASE SAVEPOINT body")
                            committedAny = true
                        }
                    }
                }
                if connection.hasBegun {
                    // Followers need to hear of commits that appended events only, not of
                    // heartbeats. The process that sends the notification is named before
                    // it can arrive.
                    let notify = committedAny && connection.appendedEvents
                    listener.noteWriter(process: connection.backendPID)
                    try connection.executeScript(sql: notify ? "NOTIFY \(channel); COMMIT" : "COMMIT")
                    if notify { listener.noteLocalCommit() }
                } else {
                    connection.cancelDeferredBegin()
                }
                for job in jobs { job.finish(nil) }
                return
            } catch let error as PostgresError {
                abandonTransaction()
                if error.isRetryable && attempt < 8 {
                    Thread.sleep(forTimeInterval: Double.random(in: 0.001...0.004) * Double(attempt))
                    continue
                }
                for job in jobs { job.finish(error) }
                return
            } catch {
                abandonTransaction()
                let failure = PostgresError(sqlState: "XX000", message: "\(error)")
                for job in jobs { job.finish(failure) }
                return
            }
        }
    }

    /// A body's error that ends the whole batch: a lost connection, or a conflict that
    /// runs the batch again.
    private static func rethrowIfFatal(_ error: any Error) throws {
        if let error = error as? PostgresError, error.isConnectionFailure || error.isRetryable {
            throw error
        }
    }

    /// Begins a batch's transaction, which takes the store's write lock first; both are
    /// sent with the batch's first statement.
    private func begin() throws -> PGConnection {
        let connection = try connected(&connection, conninfo: conninfo, setup: Self.setup)
        connection.deferBegin(["BEGIN", "SELECT pg_advisory_xact_lock(\(lockKey), 1)"], readingTime: clock.readsDatabase)
        return connection
    }

    private func rollback(_ connection: PGConnection) throws {
        if connection.hasBegun {
            try connection.executeScript(sql: "ROLLBACK")
        } else {
            connection.cancelDeferredBegin()
        }
    }

    private func abandonTransaction() {
        guard let connection else { return }
        if connection.isBroken {
            self.connection = nil
        } else {
            try? rollback(connection)
        }
    }

    func end() {
        connection = nil
    }
}

/// A reader thread's connection.
final class Reader: @unchecked Sendable {
    let conninfo: String
    let clock: TransactionClock
    var connection: PGConnection?

    init(conninfo: String, clock: TransactionClock) {
        self.conninfo = conninfo
        self.clock = clock
    }

    func run(_ jobs: [ReadJob]) {
        for job in jobs {
            var ran = false
            do {
                let connection = try connected(&connection, conninfo: conninfo)
                // Sent with the body's first statement; the commit's answer is read with
                // the next call's.
                // Without a snapshot the statements run on their own; the time, when read
                // from the database, still travels with the first.
                connection.deferBegin(
                    job.snapshot ? ["BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"] : [], readingTime: clock.readsDatabase)
                ran = true
                job.run(PostgresTransaction(db: connection, fixedNow: clock.fixedNow()))
                if connection.isBroken {
                    self.connection = nil
                } else if !job.snapshot {
                    // No transaction to end.
                } else if connection.hasBegun {
                    try connection.commitWithoutWaiting()
                } else {
                    connection.cancelDeferredBegin()
                }
            } catch {
                if connection?.isBroken ?? false {
                    connection = nil
                } else if connection?.hasBegun ?? false {
                    try? connection?.executeScript(sql: "ROLLBACK")
                } else {
                    connection?.cancelDeferredBegin()
                }
                if !ran { job.fail(error) }
            }
        }
    }


    func end() {
        connection = nil
    }
}

/// `connection`, or a new one when there is none or the server ended it. A connection the
/// server ends while idle is also found at its transaction's first statement, which
/// connects again there (nothing of the transaction had reached the server).
func connected(_ connection: inout PGConnection?, conninfo: String, setup: String? = nil) throws -> PGConnection {
    if let current = connection, !current.isBroken { return current }
    connection = nil
    let fresh = try PGConnection(conninfo: conninfo, setup: setup)
    connection = fresh
    return fresh
}
