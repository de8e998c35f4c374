"""Admin: create creators and users (each gets an API key, shown once), and rotate their keys."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from psycopg.errors import UniqueViolation
from pydantic import BaseModel, Field

from api.deps import AdminDep, ServicesDep
from api.errors import ApiError, not_found
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


class RotateIn(BaseModel):
    principal_id: uuid.UUID = Field(description="the creator or user whose key to replace")
    grace_seconds: int = Field(
        86_400, ge=0, le=30 * 86_400, description="how long the old keys keep working (0: stop them now)"
    )


@router.post("/keys/rotate", status_code=201)
async def rotate_key(body: RotateIn, _: AdminDep, services: ServicesDep) -> dict:
    """Issue a creator's or user's new key; their old keys keep working for the grace period, then stop."""
    accounts = services.context.accounts
    if (creator := await accounts.get_creator(body.principal_id)) is not None:
        role, handle = "creator", creator["handle"]
    elif (user := await accounts.get_user(body.principal_id)) is not None:
        role, handle = "user", user["handle"]
    else:
        raise not_found("creator or user")
    key, expiring = await accounts.rotate_key(role, body.principal_id, body.grace_seconds)
    return rotated_json(role, body.principal_id, handle, key, expiring)


def rotated_json(role: str, principal_id: uuid.UUID | None, handle: str | None, key: str, expiring: dict) -> dict:
    expires = expiring["previous_keys_expire_at"]
    return {
        "role": role,
        "principal_id": str(principal_id) if principal_id else None,
        "handle": handle,
        "api_key": key,
        "previous_keys": expiring["previous_keys"],
        "previous_keys_expire_at": expires.isoformat() if expires else None,
    }
