"""Agents, their knowledge and their canonical answers."""

from __future__ import annotations

from fastapi import APIRouter
from psycopg.errors import UniqueViolation
from pydantic import BaseModel, Field

from api.deps import CreatorDep, OwnedAgentDep, OwnedAnswerDep, PrincipalDep, ServicesDep
from api.errors import ApiError
from api.schemas import AnswerText, Handle, LayerField, LongText, Name, StorableText, Text, canonical_json
from stores.knowledge import chunk_text

router = APIRouter(prefix="/agents", tags=["agents"])


class AgentIn(BaseModel):
    handle: Handle
    name: Name
    persona: StorableText = Field("", max_length=4000)


class KnowledgeIn(BaseModel):
    title: Name
    text: LongText


class CanonicalIn(BaseModel):
    question: Text
    answer: AnswerText
    layer: LayerField = "public"


def agent_json(row: dict) -> dict:
    return {
        "id": str(row["id"]),
        "handle": row["handle"],
        "name": row["name"],
        "persona": row["persona"],
        "enabled": row["enabled"],
        "creator_id": str(row["creator_id"]) if "creator_id" in row else None,
    }


@router.post("", status_code=201)
async def create_agent(body: AgentIn, creator: CreatorDep, services: ServicesDep) -> dict:
    """Create an agent owned by the calling creator, with the default config."""
    try:
        row = await services.context.agents.create(creator.id, body.handle, body.name, body.persona)  # type: ignore[arg-type]
    except UniqueViolation as exc:
        raise ApiError(409, "conflict", f"agent handle {body.handle!r} is taken") from exc
    return agent_json(row) | {"config": row["config"]}


@router.get("")
async def list_agents(principal: PrincipalDep, services: ServicesDep) -> list[dict]:
    """A creator's own agents; for everyone else, the directory of agents to talk to."""
    agents = services.context.agents
    if principal.role == "creator":
        return [agent_json(row) for row in await agents.list_for_creator(principal.id)]  # type: ignore[arg-type]
    return [agent_json(row) for row in await agents.list_all() if row["enabled"]]


@router.post("/{agent_id}/knowledge", status_code=201)
async def add_knowledge(body: KnowledgeIn, agent: OwnedAgentDep, services: ServicesDep) -> dict:
    """Chunk, embed and store a knowledge document."""
    chunks = chunk_text(body.text)
    embeddings = await services.context.embedder.embed(chunks)
    document_id = await services.context.knowledge.add_document(agent["id"], body.title, body.text, chunks, embeddings)
    return {"document_id": str(document_id), "chunks": len(chunks)}


@router.post("/{agent_id}/canonical-answers", status_code=201)
async def add_canonical_answer(body: CanonicalIn, agent: OwnedAgentDep, services: ServicesDep) -> dict:
    """Store a creator-written answer to a question (an FAQ), served verbatim to paraphrases."""
    embedding = await services.context.embedder.embed_one(body.question)
    row = await services.context.canonical.create(agent["id"], body.question, body.answer, body.layer, embedding)
    return canonical_json(row)


@router.get("/{agent_id}/canonical-answers")
async def list_canonical_answers(agent: OwnedAgentDep, services: ServicesDep) -> list[dict]:
    """The agent's canonical answers with how often each was reused."""
    return [canonical_json(row) for row in await services.context.canonical.list(agent["id"])]


class CanonicalEdit(BaseModel):
    question: Text | None = None
    answer: AnswerText | None = None
    layer: LayerField | None = None


@router.put("/{agent_id}/canonical-answers/{answer_id}")
async def edit_canonical_answer(body: CanonicalEdit, current: OwnedAnswerDep, services: ServicesDep) -> dict:
    """Edit an answer's question, words or layer (a new question is embedded again)."""
    question = body.question or current["question"]
    embedding = await services.context.embedder.embed_one(question) if question != current["question"] else None
    row = await services.context.canonical.update(
        current["id"],
        question=question,
        answer=body.answer or current["answer"],
        layer=body.layer or current["layer"],
        embedding=embedding,
    )
    return canonical_json(row)
