-- A request being processed claims its Idempotency-Key first (status 0 = in flight) until
-- `claimed_until`; duplicates on any node wait for the claim to complete or lapse.
ALTER TABLE idempotency_keys ADD COLUMN claimed_until INTEGER;
