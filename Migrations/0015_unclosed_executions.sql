-- Executions a session has not closed yet, running or ended: the per-session cap on
-- unclosed executions counts them through this index whatever the session has closed.
CREATE INDEX executions_unclosed ON executions (session_id)
    WHERE closed_at IS NULL;
