-- Confidence analysis of AI answers: the draft and its confidence travel with an escalation to the creator,
-- every decision records the analysis, and hand-off requests are logged as events.
ALTER TABLE escalations ADD COLUMN ai_draft text;
ALTER TABLE escalations ADD COLUMN ai_confidence jsonb;

ALTER TABLE decisions ADD COLUMN confidence_score real;
ALTER TABLE decisions ADD COLUMN confidence_level text;
ALTER TABLE decisions ADD COLUMN confidence_action text;

CREATE TABLE event_log (
    id bigserial PRIMARY KEY,
    type text NOT NULL,
    agent_id uuid NOT NULL,
    conversation_id uuid,
    message_id uuid,
    escalation_id uuid,
    payload jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (type, message_id)
);
CREATE INDEX event_log_agent_type_idx ON event_log (agent_id, type, created_at);
