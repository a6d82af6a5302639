-- Rows that would otherwise stay forever.
--
-- live_session_counts: a row whose count falls to 0 is deleted in the same trigger, so
-- a data source, user or address with no live session leaves no row behind (and no
-- metrics series); a missing row reads as 0. Existing rows at 0 are deleted once here.
--
-- executions_with_request: executions that still hold their request payload, by end
-- time, so the sweeper clears the payloads of executions ended longer ago than the
-- tombstone retention by reading only those (a session's executions stay as long as the
-- session; their payloads need not).

DROP TRIGGER IF EXISTS sessions_count_state;
CREATE TRIGGER sessions_count_state AFTER UPDATE OF state ON sessions
WHEN OLD.state <> NEW.state AND OLD.ended_at IS NULL
BEGIN
    UPDATE live_session_counts SET live = live - 1
    WHERE scope = 'data_source_state' AND name = OLD.data_source || char(9) || OLD.state;
    DELETE FROM live_session_counts
    WHERE scope = 'data_source_state' AND name = OLD.data_source || char(9) || OLD.state AND live = 0;
    INSERT INTO live_session_counts (scope, name, live)
    SELECT 'data_source_state', NEW.data_source || char(9) || NEW.state, 1
    WHERE NEW.ended_at IS NULL
    ON CONFLICT (scope, name) DO UPDATE SET live = live + 1;
END;

DROP TRIGGER IF EXISTS sessions_count_end;
CREATE TRIGGER sessions_count_end AFTER UPDATE OF ended_at ON sessions
WHEN OLD.ended_at IS NULL AND NEW.ended_at IS NOT NULL
BEGIN
    UPDATE live_session_counts SET live = live - 1
    WHERE (scope = 'total' AND name = '')
       OR (scope = 'user' AND name = OLD.user_id)
       OR (scope = 'data_source' AND name = OLD.data_source)
       OR (scope = 'address' AND name = OLD.client_address)
       OR (scope = 'user_address' AND name = OLD.user_id || char(9) || OLD.client_address);
    DELETE FROM live_session_counts
    WHERE live = 0 AND (
           (scope = 'total' AND name = '')
        OR (scope = 'user' AND name = OLD.user_id)
        OR (scope = 'data_source' AND name = OLD.data_source)
        OR (scope = 'address' AND name = OLD.client_address)
        OR (scope = 'user_address' AND name = OLD.user_id || char(9) || OLD.client_address));
END;

DELETE FROM live_session_counts WHERE live = 0;

CREATE INDEX executions_with_request ON executions (ended_at)
    WHERE request IS NOT NULL AND ended_at IS NOT NULL;
