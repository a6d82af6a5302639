-- Live sessions counted by data source and state as well (the metrics gauges read these
-- rows), and sessions without a client session id kept out of the (user, client session
-- id) index, so their inserts do not touch it.
--
-- For a while these changes were made by an edited 0001; files created then already
-- have them, and SessionStore accepts that revision's checksum. So every statement here
-- replaces rather than assumes, and the counts by state are recomputed from the rows.
-- live_session_counts scope 'data_source_state': name is data source, a tab, state
-- (idle, active, closing).

DROP INDEX IF EXISTS sessions_by_user_client_id;
CREATE INDEX sessions_by_user_client_id ON sessions (user_id, client_session_id, id)
    WHERE client_session_id IS NOT NULL;

DROP TRIGGER IF EXISTS sessions_count_insert;
CREATE TRIGGER sessions_count_insert AFTER INSERT ON sessions
WHEN NEW.ended_at IS NULL
BEGIN
    INSERT INTO live_session_counts (scope, name, live)
    SELECT 'total', '', 1
    UNION ALL SELECT 'user', NEW.user_id, 1
    UNION ALL SELECT 'data_source', NEW.data_source, 1
    UNION ALL SELECT 'data_source_state', NEW.data_source || char(9) || NEW.state, 1
    UNION ALL SELECT 'address', NEW.client_address, 1 WHERE NEW.client_address IS NOT NULL
    UNION ALL SELECT 'user_address', NEW.user_id || char(9) || NEW.client_address, 1
        WHERE NEW.client_address IS NOT NULL
    ON CONFLICT (scope, name) DO UPDATE SET live = live + 1;
END;

DROP TRIGGER IF EXISTS sessions_count_state;
CREATE TRIGGER sessions_count_state AFTER UPDATE OF state ON sessions
WHEN OLD.state <> NEW.state AND OLD.ended_at IS NULL
BEGIN
    UPDATE live_session_counts SET live = live - 1
    WHERE scope = 'data_source_state' AND name = OLD.data_source || char(9) || OLD.state;
    INSERT INTO live_session_counts (scope, name, live)
    SELECT 'data_source_state', NEW.data_source || char(9) || NEW.state, 1
    WHERE NEW.ended_at IS NULL
    ON CONFLICT (scope, name) DO UPDATE SET live = live + 1;
END;

DELETE FROM live_session_counts WHERE scope = 'data_source_state';
INSERT INTO live_session_counts (scope, name, live)
SELECT 'data_source_state', data_source || char(9) || state, count(*)
FROM sessions
WHERE ended_at IS NULL
GROUP BY data_source, state;
