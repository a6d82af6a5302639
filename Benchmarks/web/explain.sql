-- The query plans of the sessions page's reads on SQLite, as the listing writes them
-- (Sources/SessionStoreSQLite/Records/SessionListRecords.swift), with the arguments of a
-- first page of 101 rows (a page of 100 and one to tell whether a next page exists) at
-- now = 2000000000000. Run: sqlite3 FILE < Benchmarks/web/explain.sql
.echo on
-- live, newest first (the default page)
EXPLAIN QUERY PLAN SELECT id, key, expire_at FROM sessions
WHERE id < 9223372036854775807 AND state IN ('idle', 'active')
  AND (expire_at IS NULL OR expire_at > 2000000000000
    OR last_access_at < (SELECT value FROM store_state WHERE name = 'rearm_epoch')
    OR expire_at > (SELECT value FROM store_state WHERE name = 'serving_stopped_at')
    OR state = 'active')
ORDER BY id DESC LIMIT 101;
-- every state, newest first
EXPLAIN QUERY PLAN SELECT id, key, expire_at FROM sessions
WHERE id < 9223372036854775807
ORDER BY id DESC LIMIT 101;
-- one user, live, newest first
EXPLAIN QUERY PLAN SELECT id, key, expire_at FROM sessions
WHERE id < 9223372036854775807 AND state IN ('idle', 'active') AND user_id = 'user-3'
ORDER BY id DESC LIMIT 101;
-- one data source, live, newest first
EXPLAIN QUERY PLAN SELECT id, key, expire_at FROM sessions
WHERE id < 9223372036854775807 AND state IN ('idle', 'active') AND data_source = 'source-1'
ORDER BY id DESC LIMIT 101;
-- live, expires first
EXPLAIN QUERY PLAN SELECT id, key, expire_at FROM sessions
WHERE (expire_at, id) > (-9223372036854775808, 0) AND state IN ('idle', 'active')
ORDER BY expire_at, id LIMIT 101;
-- live, by user
EXPLAIN QUERY PLAN SELECT id, key, expire_at FROM sessions
WHERE (user_id, id) > ('', 0) AND state IN ('idle', 'active')
ORDER BY user_id, id LIMIT 101;
-- each listed session's details, config and links (four point reads a row)
EXPLAIN QUERY PLAN SELECT name, value FROM session_details WHERE session_id = 1;
EXPLAIN QUERY PLAN SELECT name, value FROM session_config WHERE session_id = 1;
EXPLAIN QUERY PLAN SELECT s.key FROM session_links l JOIN sessions s ON s.id = l.child_id WHERE l.parent_id = 1;
EXPLAIN QUERY PLAN SELECT s.key FROM session_links l JOIN sessions s ON s.id = l.parent_id WHERE l.child_id = 1;
