"""Request dependencies: the running services and the authenticated caller, as Annotated aliases."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError, not_found, rate_limited
from api.services import Services
from stores.accounts import Principal

_bearer = HTTPBearer(auto_error=False, description="An API key: admin, creator or user")


async def get_services(request: Request) -> Services:
    # async on purpose: FastAPI runs a plain `def` dependency in its thread pool, a thread hop per request.
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_principal(
    services: ServicesDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None or not credentials.credentials:
        raise ApiError(401, "unauthorized", "missing API key: send 'Authorization: Bearer <key>'")
    principal = await services.context.accounts.authenticate(credentials.credentials)
    if principal is None:
        raise ApiError(401, "unauthorized", "invalid API key")
    verdict = await services.limiter.hit(f"key:{principal.role}:{principal.id}", services.settings.rate_limit_per_key)
    if not verdict.allowed:
        raise rate_limited("too many requests for this key", verdict.retry_after_s)
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def _role(*roles: str):  # noqa: ANN202
    async def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise ApiError(403, "forbidden", f"this route is for {' or '.join(roles)} keys")
        return principal

    return check


AdminDep = Annotated[Principal, Depends(_role("admin"))]
CreatorDep = Annotated[Principal, Depends(_role("creator"))]
UserDep = Annotated[Principal, Depends(_role("user"))]


async def owned_agent(agent_id: uuid.UUID, creator: CreatorDep, services: ServicesDep) -> dict:
    """The agent, if the calling creator owns it; someone else's agent is indistinguishable from none."""
    agent = await services.context.agents.get(agent_id)
    if agent is None or agent["creator_id"] != creator.id:
        raise not_found("agent")
    return agent


OwnedAgentDep = Annotated[dict, Depends(owned_agent)]


async def owned_canonical_answer(answer_id: uuid.UUID, agent: OwnedAgentDep, services: ServicesDep) -> dict:
    """One of the owned agent's canonical answers; another agent's answer is indistinguishable from none."""
    answer = await services.context.canonical.get(answer_id)
    if answer is None or answer["agent_id"] != agent["id"]:
        raise not_found("canonical answer")
    return answer


OwnedAnswerDep = Annotated[dict, Depends(owned_canonical_answer)]


async def participant_conversation(conversation_id: uuid.UUID, principal: PrincipalDep, services: ServicesDep) -> dict:
    """The conversation, if the caller is its user (the only one who may post in it)."""
    conversation = await services.context.conversations.get(conversation_id)
    if conversation is None or principal.role != "user" or conversation["user_id"] != principal.id:
        raise not_found("conversation")
    return conversation


ConversationDep = Annotated[dict, Depends(participant_conversation)]
