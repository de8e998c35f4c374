"""Who the caller is (the pages check a key with it right after sign-in), and rotating one's own key."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import PrincipalDep, ServicesDep
from api.routers.admin import rotated_json

router = APIRouter(tags=["me"])
log = logging.getLogger(__name__)


@router.get("/me")
async def me(principal: PrincipalDep) -> dict:
    """The caller's role, id, handle and (for users) tier."""
    return {
        "role": principal.role,
        "id": str(principal.id) if principal.id else None,
        "handle": principal.handle,
        "tier": principal.tier,
    }


class RotateOwnIn(BaseModel):
    grace_seconds: int = Field(
        86_400, ge=0, le=30 * 86_400, description="how long the current key keeps working (0: stop it now)"
    )


@router.post("/me/keys/rotate", status_code=201)
async def rotate_own_key(body: RotateOwnIn, principal: PrincipalDep, services: ServicesDep) -> dict:
    """A new key for the caller; the current one keeps working for the grace period, so clients switch over
    without downtime. An admin's new key also replaces `<data dir>/admin_key` when the service keeps one."""
    key, expiring = await services.context.accounts.rotate_key(principal.role, principal.id, body.grace_seconds)
    if principal.role == "admin":
        path = services.settings.resolved_data_dir() / "admin_key"
        if path.exists():
            path.write_text(key + "\n")
            log.warning("admin key rotated; %s holds the new one", path)
    return rotated_json(principal.role, principal.id, principal.handle, key, expiring)
