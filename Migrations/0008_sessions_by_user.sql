-- A user's sessions indexed whatever their state, in place of the live-only
-- sessions_live_by_user. Ending a session changes its state, and a partial index on the
-- state loses the row: the sweeper wrote one leaf of that index per user it expired, and
-- with a million sessions those leaves are spread over the whole index, so a pass cost
-- more as the number of live sessions grew. This index names no column that ending,
-- touching or re-arming changes, so those updates never write it. Listing the live
-- sessions of a user reads that user's tombstones too (until they are pruned).
DROP INDEX sessions_live_by_user;
CREATE INDEX sessions_by_user ON sessions (user_id, id);
