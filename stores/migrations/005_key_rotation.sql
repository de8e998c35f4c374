-- Key rotation without downtime: a rotated key keeps working until expires_at (a grace period in which clients
-- switch to the new key), then never again.

ALTER TABLE api_keys ADD COLUMN expires_at timestamptz;
CREATE INDEX api_keys_principal ON api_keys (principal_id) WHERE revoked_at IS NULL;
