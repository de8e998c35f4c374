-- The agent's reuse_version at which each answer's phrasings or negative pairs last changed. A process whose
-- answer classifier is older than the agent's keeps using it for answers that have not changed since it was
-- trained, and waits for the retrain only when a nominated answer did (llm/answer_classifier.py): a creator
-- answering escalations one after another no longer holds up every turn that is served a canonical answer.

ALTER TABLE canonical_answers ADD COLUMN changed_version bigint NOT NULL DEFAULT 0;
