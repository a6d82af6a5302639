-- Views for operators using the sqlite3 shell: the first questions answered with times
-- rendered as ISO-8601 UTC text.
--   sqlite3 sessions.sqlite 'SELECT * FROM live_sessions'

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
    strftime('%Y-%m-%dT%H:%M:%fZ', expire_at / 1000.0, 'unixepoch') AS expires,
    client_address,
    impersonated_user,
    statements,
    failures
FROM sessions
WHERE state IN ('idle', 'active')
ORDER BY id;

CREATE VIEW session_tree AS
SELECT
    parent.key AS parent_key,
    parent.user_id AS parent_user,
    parent.state AS parent_state,
    child.key AS child_key,
    child.user_id AS child_user,
    child.state AS child_state,
    strftime('%Y-%m-%dT%H:%M:%fZ', session_links.created_at / 1000.0, 'unixepoch') AS linked
FROM session_links
JOIN sessions AS parent ON parent.id = session_links.parent_id
JOIN sessions AS child ON child.id = session_links.child_id;

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
WHERE executions.status IN ('pending', 'started', 'analyzed', 'readyForExecution')
ORDER BY executions.id;

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
ORDER BY seq DESC
LIMIT 100;

CREATE VIEW user_session_counts AS
SELECT
    user_id,
    sum(state IN ('idle', 'active')) AS live,
    sum(state = 'active') AS active,
    sum(state = 'idle') AS idle,
    sum(state IN ('closed', 'expired', 'failed')) AS ended,
    strftime('%Y-%m-%dT%H:%M:%fZ', max(last_access_at) / 1000.0, 'unixepoch') AS last_access
FROM sessions
GROUP BY user_id
ORDER BY user_id;
