-- `live_sessions` shows the expiry the sweeper applies. A recovery in `rearm` mode and the
-- sweeper's storm guard write only `rearm_epoch` and `rearm_tick` to `store_state`: a live
-- session with a timeout not accessed since the epoch expires at
--   max(expire_at, roundUp(rearm_epoch + timeout_ms, rearm_tick))
-- (rounding as the library's, saturating at the largest tick below 2^63; a missing tick
-- is 1 ms), which the sweeper writes when it meets the session. The library reads the
-- same expression. Columns and rows are as in 0004; only `expires` changes.

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
    strftime('%Y-%m-%dT%H:%M:%fZ', (
        CASE WHEN state IN ('idle', 'active') AND timeout_ms IS NOT NULL
            AND last_access_at < (SELECT value FROM store_state WHERE name = 'rearm_epoch')
        THEN max(expire_at,
            CASE
            WHEN timeout_ms > (9223372036854775807 - 9223372036854775807 % max(1, coalesce((SELECT value FROM store_state WHERE name = 'rearm_tick'), 1)))
                - max(1, coalesce((SELECT value FROM store_state WHERE name = 'rearm_tick'), 1))
                - (SELECT value FROM store_state WHERE name = 'rearm_epoch')
            THEN 9223372036854775807 - 9223372036854775807 % max(1, coalesce((SELECT value FROM store_state WHERE name = 'rearm_tick'), 1))
            WHEN ((SELECT value FROM store_state WHERE name = 'rearm_epoch') + timeout_ms)
                % max(1, coalesce((SELECT value FROM store_state WHERE name = 'rearm_tick'), 1)) = 0
            THEN (SELECT value FROM store_state WHERE name = 'rearm_epoch') + timeout_ms
            ELSE (SELECT value FROM store_state WHERE name = 'rearm_epoch') + timeout_ms
                - ((SELECT value FROM store_state WHERE name = 'rearm_epoch') + timeout_ms)
                    % max(1, coalesce((SELECT value FROM store_state WHERE name = 'rearm_tick'), 1))
                + max(1, coalesce((SELECT value FROM store_state WHERE name = 'rearm_tick'), 1))
            END)
        ELSE expire_at END
    ) / 1000.0, 'unixepoch') AS expires,
    client_address,
    impersonated_user,
    statements,
    failures
FROM sessions
WHERE state IN ('idle', 'active')
ORDER BY id;
