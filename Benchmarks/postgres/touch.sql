-- A touch within its bucket: the one read the store's touch makes (the expiry probe).
\set n random(1, :nsess)
SELECT id, state, timeout_ms, last_access_at, expire_at, user_id
FROM sessions WHERE key = (SELECT key FROM floor_keys WHERE n = :n);
