-- A get: the session row, its details and config, its links (the store's three reads).
\set n random(1, :nsess)
SELECT key AS k FROM floor_keys WHERE n = :n \gset
SELECT id, key, user_id, client_session_id, data_source, type, version, identifier, utc_offset_seconds,
       client_address, impersonated_user, state, timeout_ms, created_at, last_access_at, expire_at,
       ended_at, end_reason, config_changes, statements, failures
FROM sessions WHERE key = :k \gset s_
SELECT 0, name, value FROM session_details WHERE session_id = :s_id
UNION ALL SELECT 1, name, value FROM session_config WHERE session_id = :s_id;
SELECT 0, sessions.key, session_links.child_id, sessions.user_id
FROM session_links JOIN sessions ON sessions.id = session_links.child_id WHERE session_links.parent_id = :s_id
UNION ALL
SELECT 1, sessions.key, session_links.parent_id, sessions.user_id
FROM session_links JOIN sessions ON sessions.id = session_links.parent_id WHERE session_links.child_id = :s_id;
