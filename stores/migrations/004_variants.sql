-- Precise reuse: an answer gathers the phrasings it is asked by (variants), users' feedback on answers, and the
-- questions users said an answer did not answer (negative pairs). agents.reuse_version moves with every change,
-- so each process knows when its answer classifier is stale without asking.

CREATE TABLE canonical_variants (
    id uuid PRIMARY KEY,
    answer_id uuid NOT NULL REFERENCES canonical_answers (id) ON DELETE CASCADE,
    agent_id uuid NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    layer text NOT NULL CHECK (layer IN ('public', 'friends', 'intimate')),  -- the answer's, kept in step
    question text NOT NULL,
    normalized text NOT NULL,
    embedding vector({embedding_dim}) NOT NULL,
    source text NOT NULL CHECK (source IN ('original', 'creator', 'linked', 'feedback')),
    message_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (answer_id, normalized)
);
CREATE INDEX canonical_variants_agent_idx ON canonical_variants (agent_id, layer);
CREATE INDEX canonical_variants_embedding_idx ON canonical_variants USING hnsw (embedding vector_cosine_ops);

CREATE TABLE canonical_negatives (
    id uuid PRIMARY KEY,
    answer_id uuid NOT NULL REFERENCES canonical_answers (id) ON DELETE CASCADE,
    agent_id uuid NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    question text NOT NULL,
    normalized text NOT NULL,
    embedding vector({embedding_dim}) NOT NULL,
    message_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (answer_id, normalized)
);
CREATE INDEX canonical_negatives_agent_idx ON canonical_negatives (agent_id);

-- One verdict per agent message: did it answer the question?
CREATE TABLE message_feedback (
    message_id uuid PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id),
    answered boolean NOT NULL,
    canonical_answer_id uuid REFERENCES canonical_answers (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE agents ADD COLUMN reuse_version bigint NOT NULL DEFAULT 0;

-- Every existing answer's own question is its first variant.
INSERT INTO canonical_variants (id, answer_id, agent_id, layer, question, normalized, embedding, source)
SELECT id, id, agent_id, layer, question,
       btrim(regexp_replace(replace(lower(question), '’', ''''), '\s+', ' ', 'g'), ' .,!?;:''"()-'), embedding, 'original'
FROM canonical_answers
ON CONFLICT DO NOTHING;
