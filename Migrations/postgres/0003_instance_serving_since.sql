-- When each serving instance began serving. Recovery re-arms sessions only after a time
-- no instance served: a dead serving instance is covered when a live one was already
-- serving at its last heartbeat, and not when every live one began serving after it.
ALTER TABLE instances ADD COLUMN serving_since bigint;
