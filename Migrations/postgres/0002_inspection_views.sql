-- Views for operators using psql: the first questions answered, with times rendered as
-- ISO-8601 UTC text exactly as the SQLite views render them. Columns, rows and order are
-- those of the SQLite views as migration 0016 leaves them.
--   psql -c 'SELECT * FROM live_sessions'

-- Milliseconds since the Unix epoch as 'YYYY-MM-DDTHH:MM:SS.SSSZ', the text of SQLite's
-- strftime('%Y-%m-%dT%H:%M:%fZ', ms / 1000.0, 'unixepoch'): computed with integers
-- (whole days and milliseconds of the day), so every millisecond is exact; years before
-- 1 are astronomical ('0000' is 1 BC, '-001' 2 BC); NULL outside SQLite's range
-- (-4713-11-24T12:00:00.000Z up to the end of 9999), as SQLite's. One difference: SQLite
-- shows 1 March of the years 300, -100, -500, ... (every 400 years up to 300) as 29
-- February; this shows the proleptic Gregorian date.
CREATE FUNCTION utc_iso8601(ms bigint) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
RETURN CASE
    WHEN ms >= -62135596800000 AND ms < 253402300800000
    THEN to_char(date '1970-01-01' + ((ms - ((ms % 86400000) + 86400000) % 86400000) / 86400000)::integer
            + ((ms % 86400000) + 86400000) % 86400000 * interval '1 millisecond',
        'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
    WHEN ms >= -210866760000000 AND ms < -62135596800000
    THEN CASE WHEN ms >= -62167219200000 THEN '0000'
        ELSE '-' || to_char(-1 - extract(year FROM date '1970-01-01'
            + ((ms - ((ms % 86400000) + 86400000) % 86400000) / 86400000)::integer), 'FM9000')
        END
        || to_char(date '1970-01-01' + ((ms - ((ms % 86400000) + 86400000) % 86400000) / 86400000)::integer
            + ((ms % 86400000) + 86400000) % 86400000 * interval '1 millisecond',
        '-MM-DD"T"HH24:MI:SS.MS"Z"')
    END;

-- Each session's effective expiry and whether it is overdue, as the library's
-- `Expiry.effectiveExpireAt`: a live session with a timeout, not accessed since
-- 'rearm_epoch' and due after 'rearm_since' (no bound when missing), expires at
-- max(expire_at, roundUp(rearm_epoch + timeout_ms, rearm_tick)) (rounding as the
-- library's, saturating at the largest tick below 2^63; a missing tick is 1 ms); then,
-- while 'serving_stopped_at' is set, one due after it has no expiry (suspended).
-- overdue (1 or 0): an idle session whose effective expiry has passed by the clock of the
-- statement, whether or not a sweeper has ended it yet. An `active` session is never
-- overdue here: the sweeper spares it by default.
CREATE VIEW session_expiry AS
WITH rearm AS (
    SELECT
        (SELECT value FROM store_state WHERE name = 'rearm_epoch') AS epoch,
        greatest(1, coalesce((SELECT value FROM store_state WHERE name = 'rearm_tick'), 1)) AS tick,
        coalesce((SELECT value FROM store_state WHERE name = 'rearm_since'), '-9223372036854775808'::bigint) AS since,
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
        THEN greatest(expire_at,
            CASE
            -- numeric on the right: an epoch before 1970 must not overflow the bound.
            WHEN timeout_ms > 9223372036854775807 - 9223372036854775807 % rearm.tick - rearm.tick - rearm.epoch::numeric
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
    CASE WHEN state = 'idle' AND effective_expire_at IS NOT NULL
        AND effective_expire_at <= floor(extract(epoch FROM statement_timestamp()) * 1000)::bigint
    THEN 1 ELSE 0 END::bigint AS overdue
FROM effective;

-- Live sessions, overdue ones left out. expires: the effective expiry; 'never' for a
-- session without a timeout; 'suspended since <time of the stop>' for one whose timeout
-- does not run until the next serving process opens the store.
CREATE VIEW live_sessions AS
SELECT
    key,
    user_id,
    client_session_id,
    data_source,
    type,
    state,
    CASE WHEN timeout_ms IS NULL THEN 'never' ELSE (timeout_ms / 1000)::text || 's' END AS timeout,
    utc_iso8601(created_at) AS created,
    utc_iso8601(last_access_at) AS last_access,
    CASE
    WHEN effective_expire_at IS NOT NULL THEN utc_iso8601(effective_expire_at)
    WHEN timeout_ms IS NULL THEN 'never'
    ELSE 'suspended since ' || utc_iso8601((SELECT value FROM store_state WHERE name = 'serving_stopped_at'))
    END AS expires,
    client_address,
    impersonated_user,
    statements,
    failures
FROM sessions
JOIN session_expiry ON session_expiry.session_id = sessions.id
WHERE state IN ('idle', 'active') AND overdue = 0
ORDER BY id;

-- Parent/child links; an overdue session shows as 'expired'.
CREATE VIEW session_tree AS
SELECT
    parent.key AS parent_key,
    parent.user_id AS parent_user,
    CASE WHEN parent_expiry.overdue = 1 THEN 'expired' ELSE parent.state END AS parent_state,
    child.key AS child_key,
    child.user_id AS child_user,
    CASE WHEN child_expiry.overdue = 1 THEN 'expired' ELSE child.state END AS child_state,
    utc_iso8601(session_links.created_at) AS linked
FROM session_links
JOIN sessions AS parent ON parent.id = session_links.parent_id
JOIN session_expiry AS parent_expiry ON parent_expiry.session_id = parent.id
JOIN sessions AS child ON child.id = session_links.child_id
JOIN session_expiry AS child_expiry ON child_expiry.session_id = child.id;

-- Running executions of sessions not overdue, in creation order; tags comma-separated in
-- byte order.
CREATE VIEW active_executions AS
SELECT
    executions.operation_id,
    sessions.key AS session_key,
    sessions.user_id,
    executions.status,
    executions.attached,
    executions.reattachable,
    (SELECT string_agg(tag, ',' ORDER BY tag COLLATE "C") FROM execution_tags WHERE execution_tags.execution_id = executions.id) AS tags,
    executions.statement,
    utc_iso8601(executions.created_at) AS created,
    utc_iso8601(executions.started_at) AS started,
    utc_iso8601(executions.last_attached_at) AS last_attached
FROM executions
JOIN sessions ON sessions.id = executions.session_id
JOIN session_expiry ON session_expiry.session_id = sessions.id
WHERE executions.status IN ('pending', 'started', 'analyzed', 'readyForExecution') AND session_expiry.overdue = 0
ORDER BY executions.id;

-- Every event, newest first; a caller adds its own LIMIT.
CREATE VIEW recent_events AS
SELECT
    seq,
    utc_iso8601(at) AS at,
    kind,
    session_key,
    user_id,
    data_source,
    operation_id,
    payload
FROM events
ORDER BY seq DESC;

-- Sessions per user, an overdue session counted as ended; users in byte order.
CREATE VIEW user_session_counts AS
SELECT
    user_id,
    count(*) FILTER (WHERE state IN ('idle', 'active') AND overdue = 0) AS live,
    count(*) FILTER (WHERE state = 'active' AND overdue = 0) AS active,
    count(*) FILTER (WHERE state = 'idle' AND overdue = 0) AS idle,
    count(*) FILTER (WHERE state IN ('closed', 'expired', 'failed') OR overdue = 1) AS ended,
    utc_iso8601(max(last_access_at)) AS last_access
FROM sessions
JOIN session_expiry ON session_expiry.session_id = sessions.id
GROUP BY user_id
ORDER BY user_id COLLATE "C";
