-- Messaging channels: one conversation model whatever the channel, connections per agent and channel, and the
-- sync log of what went in and out.

ALTER TABLE conversations
    ADD CONSTRAINT conversations_channel_check
        CHECK (channel IN ('web', 'api', 'telegram', 'whatsapp', 'messenger', 'instagram')),
    ADD COLUMN external_contact_id text,
    ADD COLUMN external_contact_name text,
    ADD COLUMN external_conversation_id text,
    ADD COLUMN status text NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'resolved', 'archived', 'handed_off')),
    ADD COLUMN last_message_preview text,
    ADD COLUMN message_count integer NOT NULL DEFAULT 0,
    ADD COLUMN summary text,
    ADD COLUMN topics text[] NOT NULL DEFAULT '{}';

-- A contact writing again continues their conversation with that agent on that channel.
CREATE UNIQUE INDEX conversations_contact ON conversations (agent_id, channel, external_contact_id)
    WHERE external_contact_id IS NOT NULL;

UPDATE conversations c SET
    message_count = m.n,
    last_message_preview = left(m.last_content, 120)
FROM (
    SELECT conversation_id, count(*) AS n, (array_agg(content ORDER BY seq DESC))[1] AS last_content
    FROM messages GROUP BY conversation_id
) m
WHERE m.conversation_id = c.id;

ALTER TABLE messages
    ADD COLUMN direction text NOT NULL DEFAULT 'inbound' CHECK (direction IN ('inbound', 'outbound')),
    ADD COLUMN sender_type text NOT NULL DEFAULT 'contact' CHECK (sender_type IN ('contact', 'agent', 'creator', 'bot')),
    ADD COLUMN external_message_id text,
    ADD COLUMN delivery_status text CHECK (delivery_status IN ('pending', 'sending', 'sent', 'delivered', 'read', 'failed')),
    ADD COLUMN delivery_claimed_at timestamptz,
    ADD COLUMN rag_context jsonb NOT NULL DEFAULT '{}';

UPDATE messages SET direction = 'outbound', sender_type = CASE WHEN metadata->>'from_creator' = 'true' THEN 'creator' ELSE 'agent' END
WHERE role = 'agent';

CREATE INDEX messages_external ON messages (external_message_id) WHERE external_message_id IS NOT NULL;
CREATE INDEX messages_undelivered ON messages (created_at) WHERE delivery_status IN ('pending', 'sending');

-- Users who arrive through a channel: one per agent, channel and contact.
ALTER TABLE users ADD COLUMN channel text, ADD COLUMN external_id text;

CREATE TABLE channel_connections (
    agent_id uuid NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    channel text NOT NULL CHECK (channel IN ('telegram', 'whatsapp', 'messenger', 'instagram')),
    credentials jsonb NOT NULL,          -- what the adapter sends with (bot token, access token, ids)
    signing_secret text,                 -- Meta app secret: needed in the clear to compute HMACs
    verify_token_hash text,              -- sha256 of Telegram's secret token or Meta's verify token
    api_base_url text NOT NULL,
    contact_tier text NOT NULL DEFAULT 'free' CHECK (contact_tier IN ('free', 'follower', 'paid')),
    enabled boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agent_id, channel)
);

-- The sync log: every message received, sent, retried, dead-lettered, and every status update, with errors.
CREATE TABLE channel_events (
    id bigserial PRIMARY KEY,
    agent_id uuid NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    channel text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('received', 'sent', 'status_update', 'retry', 'failed', 'dead_letter')),
    conversation_id uuid,
    message_id uuid,
    external_message_id text,
    status text,
    error text,
    attempts integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX channel_events_agent ON channel_events (agent_id, channel, created_at);
