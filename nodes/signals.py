"""compute_signals: similarity, novelty, complexity and confidence of the question, from real retrieval."""

from __future__ import annotations

import uuid

from langgraph.runtime import Runtime

from graphs.config import AgentConfig, layers_for_tier
from graphs.context import Context
from graphs.state import State
from nodes.confidence import answer_confidence, complexity_score, knowledge_support
from nodes.verify import Candidate, first_verified, nomination_floor


async def compute_signals(state: State, runtime: Runtime[Context]) -> dict:
    """Embed the question, search canonical answers (visible layers only) and knowledge, score it.

    Similarity only nominates a canonical answer; nodes/verify.py decides whether it is served.
    """
    ctx = runtime.context
    config = AgentConfig.model_validate(state["agent"]["config"])
    agent_id = uuid.UUID(state["agent_id"])
    embedding = await ctx.embedder.embed_one(state["text"])
    candidates = await ctx.canonical.search(agent_id, embedding, layers_for_tier(state["user_tier"]))
    chunks = await ctx.knowledge.search(agent_id, embedding)

    match, rejected = None, []
    threshold = config.canonical_similarity_threshold
    nominated = candidates and candidates[0].similarity >= nomination_floor(threshold)
    if nominated and not state.get("not_answered"):  # the model is only needed when something is nominated
        model = await ctx.answer_models.get(
            agent_id,
            state["agent"].get("reuse_version", 0),
            changed=max(hit.changed_version for hit in candidates),
        )
        hits = {str(hit.id): hit for hit in candidates}
        checked = [Candidate(i, h.question, h.similarity, model.variant_counts.get(i, 1)) for i, h in hits.items()]
        served, turned_down = first_verified(
            state["text"], embedding, checked, model.classifier, model.negatives, threshold
        )
        rejected = [
            {
                "id": c.answer_id,
                "similarity": round(c.similarity, 4),
                "reason": v.reason,
                "probability": round(v.probability, 4),
            }
            for c, v in turned_down
        ]
        if served is not None:
            candidate, verdict = served
            match = {
                "id": candidate.answer_id,
                "question": candidate.phrasing,
                "answer": hits[candidate.answer_id].answer,
                "similarity": candidate.similarity,
                "verified": verdict.reason,
                "probability": round(verdict.probability, 4),
            }

    canonical_similarity = candidates[0].similarity if candidates else 0.0
    knowledge_similarity = chunks[0].similarity if chunks else 0.0
    similarity = max(canonical_similarity, knowledge_similarity, 0.0)
    complexity = complexity_score(state["text"])
    support = knowledge_support(state["text"], [chunk.text for chunk in chunks[:3]])
    signals = {
        "similarity": round(similarity, 4),
        "novelty": round(1 - similarity, 4),
        "complexity": complexity,
        "confidence": answer_confidence(knowledge_similarity, support, complexity),
        "canonical_similarity": round(canonical_similarity, 4),
        "knowledge_similarity": round(knowledge_similarity, 4),
        "support": support,
    }
    knowledge = [{"title": c.title, "text": c.text, "similarity": round(c.similarity, 4)} for c in chunks]
    return {
        "signals": signals,
        "knowledge": knowledge,
        "canonical_match": match,
        "canonical_rejected": rejected,
    }
