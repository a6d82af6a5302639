-- Executions inside sessions (Spark Connect's ExecuteHolder), their tags, streaming
-- queries and session-owned resources, and the per-session statement counters.

ALTER TABLE sessions ADD COLUMN statements INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;

CREATE TABLE executions (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    -- A UUID, the client's or generated; unique within its session.
    operation_id TEXT NOT NULL,
    job_tag TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN (
        'pending', 'started', 'analyzed', 'readyForExecution',
        'finished', 'failed', 'canceled', 'timedOut', 'closed')),
    statement TEXT,
    -- The client's request, opaque to the store.
    request BLOB,
    reattachable INTEGER NOT NULL CHECK (reattachable IN (0, 1)),
    -- 1 while a client RPC is attached to the execution's results.
    attached INTEGER NOT NULL CHECK (attached IN (0, 1)),
    timeout_ms INTEGER CHECK (timeout_ms > 0),
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    last_attached_at INTEGER NOT NULL,
    -- created_at + timeout: past it a running execution is timed out.
    deadline_at INTEGER,
    -- When it reached finished, failed, canceled or timedOut.
    ended_at INTEGER,
    closed_at INTEGER,
    -- Set when it was abandoned (detached past the detached timeout): a tombstone, so
    -- the operation id cannot be used again in the session.
    abandoned_at INTEGER,
    error TEXT,
    UNIQUE (session_id, operation_id)
) STRICT;

-- Executions not yet finished, per session: limits, interrupts, the session's state.
CREATE INDEX executions_running ON executions (session_id)
    WHERE status IN ('pending', 'started', 'analyzed', 'readyForExecution');

-- The same across sessions in creation order: the active-executions list.
CREATE INDEX executions_running_by_id ON executions (id)
    WHERE status IN ('pending', 'started', 'analyzed', 'readyForExecution');

-- Abandonment: detached executions not yet closed, by when they were last attached.
CREATE INDEX executions_detached ON executions (last_attached_at)
    WHERE attached = 0 AND status <> 'closed';

-- Per-execution timeouts of running executions.
CREATE INDEX executions_by_deadline ON executions (deadline_at)
    WHERE status IN ('pending', 'started', 'analyzed', 'readyForExecution');

-- The time the last execution ended, and the abandoned tombstones.
CREATE INDEX executions_by_end ON executions (ended_at);
CREATE INDEX executions_abandoned ON executions (abandoned_at) WHERE abandoned_at IS NOT NULL;

CREATE TABLE execution_tags (
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    execution_id INTEGER NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    PRIMARY KEY (session_id, tag, execution_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX execution_tags_by_execution ON execution_tags (execution_id);

-- Streaming queries registered by a session (Spark Connect's StreamingQueryCache).
CREATE TABLE streaming_queries (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    query_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    name TEXT,
    -- The execution that started it, and its tags as a JSON array (interrupt by tag).
    operation_id TEXT,
    tags TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags)),
    state TEXT NOT NULL CHECK (state IN ('active', 'stopped')),
    registered_at INTEGER NOT NULL,
    stopped_at INTEGER,
    stop_reason TEXT,
    UNIQUE (session_id, query_id)
) STRICT;

CREATE INDEX streaming_queries_active ON streaming_queries (session_id) WHERE state = 'active';
CREATE INDEX streaming_queries_stopped ON streaming_queries (stopped_at) WHERE state = 'stopped';

-- Things a session owns (ZooKeeper ephemerals, Spark artifacts and temp views). A row
-- exists while the resource is held; releasing deletes it, and the release is an event.
CREATE TABLE session_resources (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    bytes INTEGER NOT NULL CHECK (bytes >= 0),
    created_at INTEGER NOT NULL,
    UNIQUE (session_id, kind, name)
) STRICT;
