-- A serving process is one running the sweeper. When the last one goes away, crashed or
-- stopped cleanly, the next open re-arms the live sessions that fell due after it was last
-- seen (ZooKeeper's rule: time without a server does not count), and only those: a
-- session due before stays expired. `store_state` gains 'rearm_since' (sessions due at or
-- before it are not re-armed; missing beside an epoch of an earlier version: no bound) and
-- 'serving_stopped_at' (a clean stop of the last serving process that no open has re-armed
-- yet; until one does, sessions due after it are suspended: no expiry).
ALTER TABLE instances ADD COLUMN serving INTEGER NOT NULL DEFAULT 0;
