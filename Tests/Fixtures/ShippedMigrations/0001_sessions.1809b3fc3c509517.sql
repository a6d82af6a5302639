-- Sessions, their details, config and links, the live counts that limits read, and the
-- event log. Times are INTEGER milliseconds since the Unix epoch (UTC), in *_at columns.

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    -- Opaque, unguessable handle: 128 random bits rendered as a UUID.
    key TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL,
    -- The client's own session id; unique per user among live sessions.
    client_session_id TEXT,
    data_source TEXT NOT NULL,
    type TEXT NOT NULL,
    version INTEGER NOT NULL,
    identifier TEXT,
    utc_offset_seconds INTEGER NOT NULL,
    client_address TEXT,
    impersonated_user TEXT,
    state TEXT NOT NULL CHECK (state IN ('idle', 'active', 'closing', 'closed', 'expired', 'failed')),
    -- NULL: the session never expires.
    timeout_ms INTEGER CHECK (timeout_ms > 0),
    created_at INTEGER NOT NULL,
    last_access_at INTEGER NOT NULL,
    -- roundUp(last access + timeout, tick); NULL when the session never expires or has ended.
    expire_at INTEGER,
    ended_at INTEGER,
    end_reason TEXT,
    config_changes INTEGER NOT NULL DEFAULT 0,
    CHECK ((state IN ('closed', 'expired', 'failed')) = (ended_at IS NOT NULL))
) STRICT;

-- Isolated lookup by (user, client session id): the newest row, live or ended.
CREATE INDEX sessions_by_user_client_id ON sessions (user_id, client_session_id, id);

-- A client session id names one live session per user at a time.
CREATE UNIQUE INDEX sessions_live_client_id ON sessions (user_id, client_session_id)
    WHERE client_session_id IS NOT NULL AND state IN ('idle', 'active', 'closing');

-- The sweeper's selection: cost follows the number due, not the number live.
CREATE INDEX sessions_by_expiry ON sessions (expire_at)
    WHERE state IN ('idle', 'active');

-- Current sessions of a data source, and the live sessions of a user.
CREATE INDEX sessions_live_by_data_source ON sessions (data_source, id)
    WHERE state IN ('idle', 'active');
CREATE INDEX sessions_live_by_user ON sessions (user_id, id)
    WHERE state IN ('idle', 'active');

-- Tombstones past their retention are pruned by end time.
CREATE INDEX sessions_ended_by_time ON sessions (ended_at)
    WHERE state IN ('closed', 'expired', 'failed');

-- Key-value details (Stream API); upserted.
CREATE TABLE session_details (
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, name)
) STRICT, WITHOUT ROWID;

-- Per-session configuration (Spark conf, Hive conf overlay); each change is an event.
CREATE TABLE session_config (
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, name)
) STRICT, WITHOUT ROWID;

-- Parent/child links (Stream API associate sessions); the service refuses cycles.
CREATE TABLE session_links (
    parent_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    child_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (parent_id, child_id),
    CHECK (parent_id <> child_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX session_links_by_child ON session_links (child_id, parent_id);

-- Sessions not yet ended, counted per scope so a limit check reads one row instead of
-- counting sessions. Kept by the triggers below in the transaction of the change.
-- scope: 'total' (name ''), 'user', 'address', 'user_address' (user, a tab, address),
-- 'data_source'.
CREATE TABLE live_session_counts (
    scope TEXT NOT NULL,
    name TEXT NOT NULL,
    live INTEGER NOT NULL CHECK (live >= 0),
    PRIMARY KEY (scope, name)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER sessions_count_insert AFTER INSERT ON sessions
WHEN NEW.ended_at IS NULL
BEGIN
    INSERT INTO live_session_counts (scope, name, live)
    VALUES
        ('total', '', 1),
        ('user', NEW.user_id, 1),
        ('data_source', NEW.data_source, 1)
    ON CONFLICT (scope, name) DO UPDATE SET live = live + 1;
    INSERT INTO live_session_counts (scope, name, live)
    SELECT 'address', NEW.client_address, 1 WHERE NEW.client_address IS NOT NULL
    UNION ALL
    SELECT 'user_address', NEW.user_id || char(9) || NEW.client_address, 1 WHERE NEW.client_address IS NOT NULL
    ON CONFLICT (scope, name) DO UPDATE SET live = live + 1;
END;

CREATE TRIGGER sessions_count_end AFTER UPDATE OF ended_at ON sessions
WHEN OLD.ended_at IS NULL AND NEW.ended_at IS NOT NULL
BEGIN
    UPDATE live_session_counts SET live = live - 1
    WHERE (scope = 'total' AND name = '')
       OR (scope = 'user' AND name = OLD.user_id)
       OR (scope = 'data_source' AND name = OLD.data_source)
       OR (scope = 'address' AND name = OLD.client_address)
       OR (scope = 'user_address' AND name = OLD.user_id || char(9) || OLD.client_address);
END;

-- The event log: append-only, written in the transaction of the change it describes.
-- seq only grows (AUTOINCREMENT never reuses a number, even after pruning).
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    session_key TEXT,
    user_id TEXT,
    data_source TEXT,
    operation_id TEXT,
    -- JSON object with the kind's own fields (reason, old and new values, limit, ...).
    payload TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(payload))
) STRICT;

CREATE INDEX events_by_session ON events (session_key, seq) WHERE session_key IS NOT NULL;
CREATE INDEX events_by_kind ON events (kind, seq);
CREATE INDEX events_by_time ON events (at);
