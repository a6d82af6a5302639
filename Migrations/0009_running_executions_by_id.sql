-- Running executions across sessions in creation order: the active-executions list.
--
-- For a while 0002 created this index itself; files created then already have it (and
-- SessionStore accepts that revision's checksum), hence IF NOT EXISTS. SQLite records
-- the same definition either way.
CREATE INDEX IF NOT EXISTS executions_running_by_id ON executions (id)
    WHERE status IN ('pending', 'started', 'analyzed', 'readyForExecution');
