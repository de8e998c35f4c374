"""compute_signals: similarity, novelty, complexity and confidence of the question, from real retrieval."""

from __future__ import annotations

import uuid

from langgraph.runtime import Runtime

from graphs.config import AgentConfig, layers_for_tier
from graphs.context import Context
from graphs.state import State
from nodes.canonical import paraphrase_guard
from nodes.confidence import answer_confidence, complexity_score, knowledge_support


async def compute_signals(state: State, runtime: Runtime[Context]) -> dict:
    """Embed the question, search canonical answers (visible layers only) and knowledge, score it."""
    ctx = runtime.context
    config = AgentConfig.model_validate(state["agent"]["config"])
    agent_id = uuid.UUID(state["agent_id"])
    embedding = await ctx.embedder.embed_one(state["text"])
    candidates = await ctx.canonical.search(agent_id, embedding, layers_for_tier(state["user_tier"]))
    chunks = await ctx.knowledge.search(agent_id, embedding)

    match, rejected = None, []
    for hit in candidates:
        if hit.similarity < config.canonical_similarity_threshold:
            break
        if why := paraphrase_guard(state["text"], hit.question):
            rejected.append({"id": str(hit.id), "similarity": round(hit.similarity, 4), "reason": why})
            continue
        match = {
            "id": str(hit.id),
            "question": hit.question,
            "answer": hit.answer,
            "similarity": hit.similarity,
        }
        break

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
