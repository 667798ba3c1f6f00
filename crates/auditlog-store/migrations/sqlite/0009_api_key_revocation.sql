-- API keys can be revoked, and keys bootstrapped from the configuration are told apart from
-- keys minted by `auditlog keys create` (a configured key that leaves the configuration is
-- revoked at the next start). Only the last four characters of a key are kept in clear now: the
-- first ten, kept before, were most of a short key. They cannot be turned into the last four
-- without the key, so existing hints are cleared.
ALTER TABLE api_keys ADD COLUMN revoked_at INTEGER;
ALTER TABLE api_keys ADD COLUMN source TEXT NOT NULL DEFAULT 'created';
ALTER TABLE api_keys RENAME COLUMN display_prefix TO hint;
UPDATE api_keys SET hint = '';
