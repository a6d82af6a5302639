-- An open as a hand-written store would do it: a transaction-level lock on the user, the
-- user's live count, the session with three details, its event. The schema's triggers
-- keep live_session_counts and event_totals, as for the store's own opens.
\set u random(1, 1000000)
BEGIN;
SELECT pg_advisory_xact_lock(hashtext('user-' || :u));
SELECT live FROM live_session_counts WHERE scope = 'user' AND name = 'user-' || :u;
INSERT INTO sessions (key, user_id, data_source, type, version, utc_offset_seconds, state, timeout_ms,
                      created_at, last_access_at, expire_at)
VALUES (gen_random_uuid()::text, 'user-' || :u, 'source-' || (:u % 8), 'default', 1, 0, 'idle', 3600000,
        :t0::bigint, :t0::bigint, :t0::bigint + 3600000)
RETURNING id AS s \gset
INSERT INTO session_details (session_id, name, value, updated_at)
VALUES (:s, 'device', 'sensor', :t0::bigint), (:s, 'site', 'site', :t0::bigint), (:s, 'firmware', '1.2.3', :t0::bigint);
INSERT INTO events (at, kind, session_key, user_id, data_source, payload)
VALUES (:t0::bigint, 'session.started', 'k', 'user-' || :u, 'source-' || (:u % 8), '{"timeoutMs":"3600000"}');
COMMIT;
