-- Actor filters (`actor_ids`, `actor_names`) are checked on the rows of the time-ordered scan
-- (`events_by_time`), which list and export pages use anyway for their (occurred_at, id) order.
-- Indexes keyed by actor put each new event on a random B-tree leaf: under ingest load every
-- commit wrote about one 4 KiB page per event per index to the WAL and checkpointed it again,
-- which measured as 40 % of ingest throughput (BENCHMARKS.md, history). The planner used them
-- only for the export's `max(target_count)` pre-scan, which a time-range scan serves in 0.3 s per
-- million events.
DROP INDEX events_by_actor_id;
DROP INDEX events_by_actor_name;
