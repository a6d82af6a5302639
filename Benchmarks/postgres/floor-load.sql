-- The floor's data: :nsess live sessions with three details each, over 1,000 users and
-- eight data sources, in the store's own schema (migrated by `sessionctl init`), and a
-- table that numbers their keys for pgbench.
INSERT INTO sessions (key, user_id, data_source, type, version, utc_offset_seconds, state, timeout_ms,
                      created_at, last_access_at, expire_at)
SELECT md5(n::text)::uuid::text, 'user-' || (n % 1000), 'source-' || (n % 8), 'default', 1, 0, 'idle', 3600000,
       :t0, :t0, :t0 + 3600000
FROM generate_series(1, :nsess) AS n;
INSERT INTO session_details (session_id, name, value, updated_at)
SELECT id, d.name, d.name || '-' || id, :t0 FROM sessions, (VALUES ('device'), ('site'), ('firmware')) AS d (name);
CREATE TABLE floor_keys AS SELECT row_number() OVER (ORDER BY id) AS n, key FROM sessions;
ALTER TABLE floor_keys ADD PRIMARY KEY (n);
VACUUM ANALYZE;
