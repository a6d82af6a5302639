
/// The outcome of a write on one session. A write that meets its session overdue ends it
/// as the sweeper would and commits that, then the call answers
/// `INVALID_HANDLE.SESSION_EXPIRED`: thrown inside the transaction, the error would roll
/// the ending back.
enum KeyedWrite<T: Sendable>: Sendable {
    /// The write ran on the live session.
    case done(T)
    /// The session was overdue; `nil` when another writer had ended it already.
    case expired(EndedSession?)
}

extension SessionEnding {
    /// Ends an overdue session exactly as the sweeper does: state `expired`, reason
    /// "expired", what it owns released, one `session.ended` event. `nil` when it had
    /// ended already.
    static func endExpired(_ db: any StorageTransaction, _ row: SessionRow, at time: Int64) throws -> EndedSession? {
        try end(db, row, as: .expired, reason: SessionRow.expiredReason, at: time)
    }
}

extension SessionStore {
    /// The value of a committed ``KeyedWrite``: the result, or — after the metrics, log line
    /// and release callbacks of the ending it committed — `INVALID_HANDLE.SESSION_EXPIRED`.
    func finish<T: Sendable>(_ outcome: KeyedWrite<T>, key: String) throws(SessionStoreError) -> T {
        switch outcome {
        case .done(let value):
            return value
        case .expired(let ended):
            if let ended { didEnd(ended) }
            throw Access.sessionExpired(key)
        }
    }
}
