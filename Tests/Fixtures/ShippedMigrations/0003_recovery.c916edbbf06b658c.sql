-- Processes that open the file (instances), the state the sweeper and recovery share,
-- and durable subscriptions to the event log.

-- One row per process that has the store open. A clean close deletes its row; a row
-- whose process died is found by the next open, which finishes its work.
CREATE TABLE instances (
    id INTEGER PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL
) STRICT;

-- The instance running an execution; cleared (ON DELETE SET NULL) when it closes cleanly.
ALTER TABLE executions ADD COLUMN instance_id INTEGER REFERENCES instances (id) ON DELETE SET NULL;
CREATE INDEX executions_by_instance ON executions (instance_id);

-- Sessions caught half-way through ending.
CREATE INDEX sessions_closing ON sessions (id) WHERE state = 'closing';

-- Named values shared by all processes: 'rearm_epoch' (sessions not accessed since this
-- time get a full timeout from it before they may expire: ZooKeeper's rule after a
-- restart, and the sweeper's storm guard).
CREATE TABLE store_state (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Durable consumers of the event log: each resumes after its acknowledged sequence number.
CREATE TABLE subscriptions (
    name TEXT PRIMARY KEY,
    acknowledged_seq INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
