"""The phrasings a canonical answer is asked by: review what it learned, add phrasings, remove bad ones."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response
from pydantic import BaseModel

from api.deps import OwnedAnswerDep, ServicesDep
from api.errors import ApiError, not_found
from api.schemas import Text

router = APIRouter(prefix="/agents", tags=["agents"])


class VariantIn(BaseModel):
    question: Text


def variant_json(row: dict) -> dict:
    return {
        "id": str(row["id"]),
        "answer_id": str(row["answer_id"]),
        "question": row["question"],
        "source": row["source"],
        "message_id": str(row["message_id"]) if row["message_id"] else None,
        "created_at": row["created_at"].isoformat(),
    }


@router.get("/{agent_id}/canonical-answers/{answer_id}/variants")
async def list_variants(answer: OwnedAnswerDep, services: ServicesDep) -> dict:
    """Every phrasing the answer is served for (original, creator, linked, feedback), and the questions users said
    it did not answer (never served for those)."""
    store = services.context.variants
    negatives = await store.negatives(answer["id"])
    return {
        "variants": [variant_json(row) for row in await store.list(answer["id"])],
        "negatives": [
            {"id": str(n["id"]), "question": n["question"], "created_at": n["created_at"].isoformat()}
            for n in negatives
        ],
    }


@router.post("/{agent_id}/canonical-answers/{answer_id}/variants", status_code=201)
async def add_variant(body: VariantIn, answer: OwnedAnswerDep, services: ServicesDep) -> dict:
    """Another way of asking the same thing: the answer will be served for it and its paraphrases."""
    embedding = await services.context.embedder.embed_one(body.question)
    row = await services.context.variants.add(answer["id"], body.question, embedding, "creator")
    if row is None:
        raise ApiError(409, "duplicate", "the answer already has this phrasing")
    return variant_json(row)


@router.delete("/{agent_id}/canonical-answers/{answer_id}/variants/{variant_id}", status_code=204)
async def remove_variant(variant_id: uuid.UUID, answer: OwnedAnswerDep, services: ServicesDep) -> Response:
    """Remove a phrasing the answer should not have learned; its own question stays (edit the answer instead)."""
    outcome = await services.context.variants.remove(answer["id"], variant_id)
    if outcome == "missing":
        raise not_found("variant")
    if outcome == "original":
        raise ApiError(409, "original_question", "an answer keeps its own question; edit the answer to change it")
    return Response(status_code=204)
