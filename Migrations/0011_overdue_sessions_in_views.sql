-- A session is expired the moment its effective expiry passes, whether or not a sweeper
-- has ended it yet, so the views for the sqlite3 shell leave overdue sessions out of what
-- they show as live, using the real clock:
--   CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
-- (milliseconds since the Unix epoch, as the *_at columns). `session_expiry` computes
-- each session's effective expiry and whether it is overdue, once, for every other view,
-- as the library's `Expiry.effectiveExpireAt`: a live session with a timeout, not
-- accessed since 'rearm_epoch' and due after 'rearm_since' (no bound when missing),
-- expires at max(expire_at, roundUp(rearm_epoch + timeout_ms, rearm_tick)) (rounding as
-- the library's, saturating at the largest tick below 2^63; a missing tick is 1 ms);
-- then, while 'serving_stopped_at' is set (the last serving process stopped cleanly and
-- no open has re-armed since), one due after it has no expiry (suspended). The views'
-- columns are as before. An `active` session (an attached execution running) is never
-- overdue here: the sweeper spares it by default (running-sessions-do-not-expire); where
-- that is off, the views show it live until the sweeper ends it, never expired and then
-- live again.

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

DROP VIEW live_sessions;

CREATE VIEW live_sessions AS
SELECT
    key,
    user_id,
    client_session_id,
    data_source,
    type,
    state,
    CASE WHEN timeout_ms IS NULL THEN 'never' ELSE (timeout_ms / 1000) || 's' END AS timeout,
    strftime('%Y-%m-%dT%H:%M:%fZ', created_at / 1000.0, 'unixepoch') AS created,
    strftime('%Y-%m-%dT%H:%M:%fZ', last_access_at / 1000.0, 'unixepoch') AS last_access,
    strftime('%Y-%m-%dT%H:%M:%fZ', effective_expire_at / 1000.0, 'unixepoch') AS expires,
    client_address,
    impersonated_user,
    statements,
    failures
FROM sessions
JOIN session_expiry ON session_expiry.session_id = sessions.id
WHERE state IN ('idle', 'active') AND NOT overdue
ORDER BY id;

DROP VIEW session_tree;

CREATE VIEW session_tree AS
SELECT
    parent.key AS parent_key,
    parent.user_id AS parent_user,
    CASE WHEN parent_expiry.overdue THEN 'expired' ELSE parent.state END AS parent_state,
    child.key AS child_key,
    child.user_id AS child_user,
    CASE WHEN child_expiry.overdue THEN 'expired' ELSE child.state END AS child_state,
    strftime('%Y-%m-%dT%H:%M:%fZ', session_links.created_at / 1000.0, 'unixepoch') AS linked
FROM session_links
JOIN sessions AS parent ON parent.id = session_links.parent_id
JOIN session_expiry AS parent_expiry ON parent_expiry.session_id = parent.id
JOIN sessions AS child ON child.id = session_links.child_id
JOIN session_expiry AS child_expiry ON child_expiry.session_id = child.id;

DROP VIEW active_executions;

CREATE VIEW active_executions AS
SELECT
    executions.operation_id,
    sessions.key AS session_key,
    sessions.user_id,
    executions.status,
    executions.attached,
    executions.reattachable,
    (SELECT group_concat(tag, ',') FROM execution_tags WHERE execution_tags.execution_id = executions.id) AS tags,
    executions.statement,
    strftime('%Y-%m-%dT%H:%M:%fZ', executions.created_at / 1000.0, 'unixepoch') AS created,
    strftime('%Y-%m-%dT%H:%M:%fZ', executions.started_at / 1000.0, 'unixepoch') AS started,
    strftime('%Y-%m-%dT%H:%M:%fZ', executions.last_attached_at / 1000.0, 'unixepoch') AS last_attached
FROM executions
JOIN sessions ON sessions.id = executions.session_id
JOIN session_expiry ON session_expiry.session_id = sessions.id
WHERE executions.status IN ('pending', 'started', 'analyzed', 'readyForExecution') AND NOT session_expiry.overdue
ORDER BY executions.id;

DROP VIEW user_session_counts;

CREATE VIEW user_session_counts AS
SELECT
    user_id,
    sum(state IN ('idle', 'active') AND NOT overdue) AS live,
    sum(state = 'active' AND NOT overdue) AS active,
    sum(state = 'idle' AND NOT overdue) AS idle,
    sum(state IN ('closed', 'expired', 'failed') OR overdue) AS ended,
    strftime('%Y-%m-%dT%H:%M:%fZ', max(last_access_at) / 1000.0, 'unixepoch') AS last_access
FROM sessions
JOIN session_expiry ON session_expiry.session_id = sessions.id
GROUP BY user_id
ORDER BY user_id;
