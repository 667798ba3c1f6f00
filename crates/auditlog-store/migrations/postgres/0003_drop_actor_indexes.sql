-- Actor filters (`actor_ids`, `actor_names`) are checked on the rows of the time-ordered scan
-- (`events_by_time`), which list and export pages use for their (occurred_at, id) order; the
-- SQLite store does the same (its migration 0008). Indexes keyed by actor put each new event on a
-- random B-tree leaf, a cost every ingest commit paid for filters that rarely use them.
DROP INDEX events_by_actor_id;
DROP INDEX events_by_actor_name;
