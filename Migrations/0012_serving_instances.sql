-- A serving process is one running the sweeper. When the last one goes away, crashed or
-- stopped cleanly, the next open re-arms the live sessions that fell due after it was last
-- seen (ZooKeeper's rule: time without a server does not count), and only those: a
-- session due before stays expired. `store_state` gains 'rearm_since' (sessions due at or
-- before it are not re-armed; missing beside an epoch of an earlier version: no bound) and
-- 'serving_stopped_at' (a clean stop of the last serving process that no open has re-armed
-- yet; until one does, sessions due after it are suspended: no expiry).
ALTER TABLE instances ADD COLUMN serving INTEGER NOT NULL DEFAULT 0;

-- `session_expiry` (0011), which every view reads, computes the effective expiry as the
-- library's `Expiry.effectiveExpireAt`: a live session with a timeout, not accessed since
-- 'rearm_epoch' and due after 'rearm_since', expires at
--   max(expire_at, roundUp(rearm_epoch + timeout_ms, rearm_tick))
-- (rounding as the library's, saturating at the largest tick below 2^63; a missing tick is
-- 1 ms); then, while 'serving_stopped_at' is set, one due after it has no expiry
-- (suspended) and is not overdue. Its columns are as in 0011.
DROP VIEW session_expiry;

CREATE VIEW session_expiry AS
WITH rearm AS (
    SELECT
        (SELECT value FROM store_state WHERE name = 'rearm_epoch') AS epoch,
        max(1, coalesce((SELECT value FROM store_state WHERE name = 'rearm_tick'), 1)) AS tick,
        coalesce((SELECT value FROM store_state WHERE name = 'rearm_since'), -9223372036854775808) AS since,
        (SELECT value FROM store_state WHERE name = 'serving_stopped_at') AS stopped
),
rearmed AS (
    SELECT
        sessions.id AS session_id,
        sessions.state,
        sessions.timeout_ms,
        rearm.stopped,
        CASE WHEN state IN ('idle', 'active') AND timeout_ms IS NOT NULL
            AND last_access_at < rearm.epoch AND expire_at > rearm.since
        THEN max(expire_at,
            CASE
            WHEN timeout_ms > 9223372036854775807 - 9223372036854775807 % rearm.tick - rearm.tick - rearm.epoch
            THEN 9223372036854775807 - 9223372036854775807 % rearm.tick
            WHEN (rearm.epoch + timeout_ms) % rearm.tick = 0 THEN rearm.epoch + timeout_ms
            ELSE rearm.epoch + timeout_ms - (rearm.epoch + timeout_ms) % rearm.tick + rearm.tick
            END)
        ELSE expire_at END AS rearmed_expire_at
    FROM sessions, rearm
),
effective AS (
    SELECT
        session_id,
        state,
        CASE WHEN state IN ('idle', 'active') AND timeout_ms IS NOT NULL
            AND stopped IS NOT NULL AND rearmed_expire_at > stopped
        THEN NULL ELSE rearmed_expire_at END AS effective_expire_at
    FROM rearmed
)
SELECT
    session_id,
    effective_expire_at,
    state = 'idle' AND effective_expire_at IS NOT NULL
        AND effective_expire_at <= CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) AS overdue
FROM effective;
