-- Fewer B-trees per ingested event. Every commit rewrites the right-hand leaf of each B-tree an
-- event touches, so each index costs a few WAL frames per commit whatever the batch holds; the
-- two that only the retention sweeper used were a fifth of them (BENCHMARKS.md, "Where an
-- SQLite commit's bytes go"), and dropping them measured 14-26 % more events/s.
--
-- The sweeper's "oldest unredacted events before the cutoff" now walks the time index itself:
-- like PostgreSQL's, it holds unredacted events only, so a sweep never wades through what earlier
-- sweeps redacted. List and export queries all carry `payload IS NOT NULL`, which lets SQLite use
-- the partial index. Redacted events also leave the index, which keeps it smaller.
--
-- Target-type rows of redacted events are deleted through the primary key, with the
-- organization's target types walked one seek each (retention.rs), instead of by event.
DROP INDEX event_target_types_by_event;
DROP INDEX events_unredacted_by_time;
DROP INDEX events_by_time;
CREATE INDEX events_by_time ON events (organization_id, occurred_at, id) WHERE payload IS NOT NULL;
