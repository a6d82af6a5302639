-- Lifetime totals of events by kind and outcome, kept by a trigger in the transaction of
-- each event, so metrics read a few rows instead of counting the log (and survive its
-- pruning). detail: the ended state, the refusal code, or the execution status moved to.
CREATE TABLE event_totals (
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    total INTEGER NOT NULL,
    PRIMARY KEY (kind, detail)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER events_totals AFTER INSERT ON events
BEGIN
    INSERT INTO event_totals (kind, detail, total)
    VALUES (
        NEW.kind,
        coalesce(
            json_extract(NEW.payload, '$.state'),
            json_extract(NEW.payload, '$.code'),
            json_extract(NEW.payload, '$.to'),
            ''),
        1)
    ON CONFLICT (kind, detail) DO UPDATE SET total = total + 1;
END;
