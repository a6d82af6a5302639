import SessionStoreCore

/// The SQL of `subscriptions`: the acknowledged position of each durable consumer of
/// the event log.
struct SubscriptionRecords: SubscriptionRepository {
    let db: PGConnection

    func acknowledged(subscription name: String) throws -> Int64 {
        try db.fetchInt64(sql: "SELECT acknowledged_seq FROM subscriptions WHERE name = ?", [.text(name)]) ?? 0
    }

    /// Deletes up to `limit` subscriptions last acknowledged at or before `cutoff`; returns
    /// how many.
    func prune(acknowledgedBefore cutoff: Int64, limit: Int) throws -> Int {
        try db.execute(
            sql: """
                DELETE FROM subscriptions
                WHERE name IN (SELECT name FROM subscriptions WHERE updated_at <= ? LIMIT ?)
                """, [.integer(cutoff), .integer(Int64(limit))])
        return db.changesCount
    }

    /// Moves the subscription's acknowledged position forward to `seq` (never back, and
    /// never past the newest event, so no future event is skipped).
    func acknowledge(subscription name: String, through seq: Int64, at time: Int64) throws {
        try db.execute(
            sql: """
                INSERT INTO subscriptions (name, acknowledged_seq, updated_at)
                VALUES (?, LEAST(?::bigint, (SELECT coalesce(max(seq), 0) FROM events)), ?)
                ON CONFLICT (name) DO UPDATE SET
                    acknowledged_seq = GREATEST(subscriptions.acknowledged_seq, excluded.acknowledged_seq),
                    updated_at = excluded.updated_at
                """, [.text(name), .integer(seq), .integer(time)])
    }
}
