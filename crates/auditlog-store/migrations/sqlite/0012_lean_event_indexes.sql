-- Fewer B-trees, and fewer insertion points, per ingested event. Every commit rewrites the
-- right-hand leaf of each B-tree an event touches (and each leaf it inserts into elsewhere), so
-- every index costs a few WAL frames per commit whatever the batch holds (BENCHMARKS.md, "Where
-- an SQLite commit's bytes go").
--
-- 1. The two indexes only the retention sweeper used go. Its "oldest unredacted events before
--    the cutoff" now walks the time index itself: like PostgreSQL's, that index holds
--    unredacted events only, so a sweep never wades through what earlier sweeps redacted. List
--    and export queries all carry `payload IS NOT NULL`, which lets SQLite use it.
-- 2. Target-type rows are keyed by event, not by (organization, type, time): the `targets`
--    filter only ever probes them once per candidate event (an EXISTS on the row id), and the
--    sweeper deletes them by event. Keyed by type, a commit inserted at one place per distinct
--    type and rewrote a leaf for each; keyed by event row id, every insert is an append.
DROP INDEX event_target_types_by_event;
DROP INDEX events_unredacted_by_time;
DROP INDEX events_by_time;
CREATE INDEX events_by_time ON events (organization_id, occurred_at, id) WHERE payload IS NOT NULL;

CREATE TABLE event_target_types_by_row (
    event_row_id INTEGER NOT NULL,
    target_type TEXT NOT NULL,
    PRIMARY KEY (event_row_id, target_type)
) WITHOUT ROWID;
INSERT INTO event_target_types_by_row (event_row_id, target_type)
    SELECT event_row_id, target_type FROM event_target_types ORDER BY event_row_id, target_type;
DROP TABLE event_target_types;
ALTER TABLE event_target_types_by_row RENAME TO event_target_types;
