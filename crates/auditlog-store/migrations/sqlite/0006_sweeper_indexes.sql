-- The retention sweeper finds unredacted events by time and deletes their target-type rows by
-- event; without these it rescans the organization per redacted event.
CREATE INDEX event_target_types_by_event ON event_target_types (organization_id, occurred_at, event_row_id);
CREATE INDEX events_unredacted_by_time ON events (organization_id, occurred_at) WHERE payload IS NOT NULL;
