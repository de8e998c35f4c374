-- The core model: accounts, agents, knowledge, canonical answers, conversations, escalations, decisions.
-- {embedding_dim} is filled in from the configured embedding model.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE creators (
    id uuid PRIMARY KEY,
    handle text NOT NULL UNIQUE,
    display_name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id uuid PRIMARY KEY,
    handle text NOT NULL UNIQUE,
    tier text NOT NULL CHECK (tier IN ('free', 'follower', 'paid')),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Keys are stored as SHA-256 hashes: a leaked table gives no usable key.
CREATE TABLE api_keys (
    key_hash text PRIMARY KEY,
    role text NOT NULL CHECK (role IN ('admin', 'creator', 'user')),
    principal_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

CREATE TABLE agents (
    id uuid PRIMARY KEY,
    creator_id uuid NOT NULL REFERENCES creators (id),
    handle text NOT NULL UNIQUE,
    name text NOT NULL,
    persona text NOT NULL DEFAULT '',
    enabled boolean NOT NULL DEFAULT true,
    config jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agents_creator_idx ON agents (creator_id);

CREATE TABLE knowledge_documents (
    id uuid PRIMARY KEY,
    agent_id uuid NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    title text NOT NULL,
    text text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE knowledge_chunks (
    id uuid PRIMARY KEY,
    document_id uuid NOT NULL REFERENCES knowledge_documents (id) ON DELETE CASCADE,
    agent_id uuid NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    ordinal int NOT NULL,
    title text NOT NULL,
    text text NOT NULL,
    embedding vector({embedding_dim}) NOT NULL
);
CREATE INDEX knowledge_chunks_agent_idx ON knowledge_chunks (agent_id);
CREATE INDEX knowledge_chunks_embedding_idx ON knowledge_chunks USING hnsw (embedding vector_cosine_ops);

CREATE TABLE canonical_answers (
    id uuid PRIMARY KEY,
    agent_id uuid NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    question text NOT NULL,
    answer text NOT NULL,
    layer text NOT NULL CHECK (layer IN ('public', 'friends', 'intimate')),
    embedding vector({embedding_dim}) NOT NULL,
    escalation_id uuid,
    times_reused int NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX canonical_answers_agent_idx ON canonical_answers (agent_id, layer);
CREATE INDEX canonical_answers_embedding_idx ON canonical_answers USING hnsw (embedding vector_cosine_ops);

CREATE TABLE conversations (
    id uuid PRIMARY KEY,
    agent_id uuid NOT NULL REFERENCES agents (id),
    user_id uuid NOT NULL REFERENCES users (id),
    channel text NOT NULL DEFAULT 'web',
    created_at timestamptz NOT NULL DEFAULT now(),
    last_message_at timestamptz
);
CREATE INDEX conversations_user_idx ON conversations (user_id);

CREATE TABLE messages (
    id uuid PRIMARY KEY,
    seq bigserial UNIQUE,
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    role text NOT NULL CHECK (role IN ('user', 'agent')),
    content text NOT NULL,
    path char(1),
    reply_to uuid,
    metadata jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX messages_conversation_idx ON messages (conversation_id, seq);

CREATE TABLE escalations (
    id uuid PRIMARY KEY,
    agent_id uuid NOT NULL REFERENCES agents (id),
    conversation_id uuid NOT NULL REFERENCES conversations (id),
    user_id uuid NOT NULL REFERENCES users (id),
    message_id uuid NOT NULL UNIQUE,
    question text NOT NULL,
    reason text NOT NULL,
    status text NOT NULL CHECK (status IN
        ('offered', 'dismissed', 'accepted', 'pending', 'answered', 'declined', 'refused')),
    context_summary text NOT NULL DEFAULT '',
    signals jsonb NOT NULL DEFAULT '{}',
    user_tier text NOT NULL,
    answer text,
    answer_layer text CHECK (answer_layer IN ('public', 'friends', 'intimate')),
    decline_reason text,
    canonical_answer_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    queued_at timestamptz,
    resolved_at timestamptz,
    delivered_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX escalations_agent_status_idx ON escalations (agent_id, status, created_at DESC);
CREATE INDEX escalations_agent_queued_idx ON escalations (agent_id, queued_at);

CREATE TABLE decisions (
    id bigserial PRIMARY KEY,
    message_id uuid NOT NULL,
    agent_id uuid NOT NULL,
    conversation_id uuid NOT NULL,
    user_id uuid NOT NULL,
    path char(1) NOT NULL,
    reason text NOT NULL,
    similarity real,
    novelty real,
    complexity real,
    confidence real,
    latency_ms real NOT NULL,
    details jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (message_id, path)
);
CREATE INDEX decisions_agent_time_idx ON decisions (agent_id, created_at);

-- One row per served canonical answer: makes reuse counting idempotent per asking message.
CREATE TABLE canonical_reuses (
    message_id uuid PRIMARY KEY,
    canonical_answer_id uuid NOT NULL REFERENCES canonical_answers (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now()
);
