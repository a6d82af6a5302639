-- The events of one user, in sequence order: what a principal-scoped reader of the log
-- selects (`user_id = ?` with a range of `seq`), so reading one user's events costs what
-- that user wrote, not the size of the log. Store-wide events have no user and are left
-- out of the index.

CREATE INDEX events_by_user ON events (user_id, seq) WHERE user_id IS NOT NULL;
