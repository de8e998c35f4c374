"""The per-agent orchestration config: GET it, change it, PUT it back."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body
from pydantic import ValidationError

from api.deps import OwnedAgentDep, ServicesDep
from api.errors import ApiError
from graphs.config import AgentConfig

router = APIRouter(prefix="/orchestrator/config", tags=["config"])

READ_ONLY = ("agent_id", "agent_handle")
READ_ONLY_NESTED = {"confidence_escalation": ("effective_immediate_threshold",)}


def config_json(agent: dict, config: AgentConfig) -> dict:
    body = {"agent_id": str(agent["id"]), "agent_handle": agent["handle"], "enabled": agent["enabled"]}
    body |= config.model_dump(mode="json")
    body["confidence_escalation"]["effective_immediate_threshold"] = (
        config.confidence_escalation.effective_immediate_threshold
    )
    return body


@router.get("/{agent_id}")
async def get_config(agent: OwnedAgentDep) -> dict:
    """The agent's config, defaults filled in."""
    return config_json(agent, AgentConfig.model_validate(agent["config"]))


@router.put("/{agent_id}")
async def put_config(
    agent: OwnedAgentDep,
    services: ServicesDep,
    body: dict[str, Any] = Body(..., examples=[{"enabled": True}]),
) -> dict:
    """Replace the config (what GET returned, edited); read-only fields are ignored, the rest validated."""
    fields = {key: value for key, value in body.items() if key not in READ_ONLY}
    for section, names in READ_ONLY_NESTED.items():
        if isinstance(fields.get(section), dict):
            fields[section] = {k: v for k, v in fields[section].items() if k not in names}
    enabled = fields.pop("enabled", None)
    if enabled is not None and not isinstance(enabled, bool):
        raise ApiError(422, "validation_error", "enabled: must be true or false")
    try:
        config = AgentConfig.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "config"
        raise ApiError(422, "validation_error", f"{where}: {first['msg']}") from exc
    await services.context.agents.update_config(agent["id"], config, enabled)
    return config_json(agent | {"enabled": agent["enabled"] if enabled is None else enabled}, config)
