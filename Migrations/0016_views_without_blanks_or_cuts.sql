-- Inspection views answer what they are asked.
--
-- `recent_events` had `LIMIT 100` inside, so a `WHERE` on it searched only the newest
-- hundred events: it now holds every event, newest first, and a caller adds its own
-- LIMIT. No other view limits its rows.
--
-- `live_sessions.expires` was empty for a suspended session. While no serving process
-- runs after the last one stopped cleanly, a session due after that stop is suspended:
-- its timeout does not run until the next process opens the store, which re-arms it to a
-- full timeout from then. The column now says `suspended since <time of the stop>`, and
-- `never` for a session without a timeout, so it is never blank.

DROP VIEW recent_events;

CREATE VIEW recent_events AS
SELECT
    seq,
    strftime('%Y-%m-%dT%H:%M:%fZ', at / 1000.0, 'unixepoch') AS at,
    kind,
    session_key,
    user_id,
    data_source,
    operation_id,
    payload
FROM events
ORDER BY seq DESC;

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
    CASE
    WHEN effective_expire_at IS NOT NULL
    THEN strftime('%Y-%m-%dT%H:%M:%fZ', effective_expire_at / 1000.0, 'unixepoch')
    WHEN timeout_ms IS NULL THEN 'never'
    ELSE 'suspended since ' || strftime(
        '%Y-%m-%dT%H:%M:%fZ',
        (SELECT value FROM store_state WHERE name = 'serving_stopped_at') / 1000.0, 'unixepoch')
    END AS expires,
    client_address,
    impersonated_user,
    statements,
    failures
FROM sessions
JOIN session_expiry ON session_expiry.session_id = sessions.id
WHERE state IN ('idle', 'active') AND NOT overdue
ORDER BY id;
