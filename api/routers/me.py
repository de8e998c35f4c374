"""Who the caller is: the pages use it to check a key right after sign-in."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import PrincipalDep

router = APIRouter(tags=["me"])


@router.get("/me")
async def me(principal: PrincipalDep) -> dict:
    """The caller's role, id, handle and (for users) tier."""
    return {
        "role": principal.role,
        "id": str(principal.id) if principal.id else None,
        "handle": principal.handle,
        "tier": principal.tier,
    }
