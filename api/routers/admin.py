"""Admin: create creators and users (each gets an API key, shown once)."""

from __future__ import annotations

from fastapi import APIRouter
from psycopg.errors import UniqueViolation
from pydantic import BaseModel

from api.deps import AdminDep, ServicesDep
from api.errors import ApiError
from api.schemas import Handle, Name
from graphs.config import Tier

router = APIRouter(prefix="/admin", tags=["admin"])


class CreatorIn(BaseModel):
    handle: Handle
    display_name: Name


class UserIn(BaseModel):
    handle: Handle
    tier: Tier


@router.post("/creators", status_code=201)
async def create_creator(body: CreatorIn, _: AdminDep, services: ServicesDep) -> dict:
    """Create a creator and return their API key."""
    try:
        row, key = await services.context.accounts.create_creator(body.handle, body.display_name)
    except UniqueViolation as exc:
        raise ApiError(409, "conflict", f"creator handle {body.handle!r} is taken") from exc
    return {
        "id": str(row["id"]),
        "handle": row["handle"],
        "display_name": row["display_name"],
        "api_key": key,
    }


@router.post("/users", status_code=201)
async def create_user(body: UserIn, _: AdminDep, services: ServicesDep) -> dict:
    """Create a user of a tier and return their API key."""
    try:
        row, key = await services.context.accounts.create_user(body.handle, body.tier)
    except UniqueViolation as exc:
        raise ApiError(409, "conflict", f"user handle {body.handle!r} is taken") from exc
    return {"id": str(row["id"]), "handle": row["handle"], "tier": row["tier"], "api_key": key}
