"""Fuzzing the API with schemathesis against the service's own OpenAPI schema, with real keys for every role.

Every operation gets generated requests, valid (positive) and invalid (negative), sent by the admin, a creator,
users of two tiers, or nobody; path ids are drawn from real resources of the caller's tenant and of another
tenant as well as random ones, so authorization is fuzzed too. Every response must be no 5xx, conform to the
schema (status, content type, body) and reveal nothing of the other tenant to a creator or user.
"""

from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.utils.api import KNOWLEDGE, NOVEL_QUESTION, bearer, unique
from tests.utils.servers import ServerProcess

# Examples per operation and mode; ORCH_FUZZ_EXAMPLES raises it for a longer run (docs/RELIABILITY.md).
EXAMPLES = int(os.environ.get("ORCH_FUZZ_EXAMPLES", "12"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Live event streams never end by themselves; they are exercised by the SSE tests instead.
ENDLESS = ("/events",)
OTHER_TENANT_MARKER = "OTHER-TENANT-SECRET"


class Tenant:
    """A creator with an agent, knowledge, a friends-layer answer, users, a conversation and an escalation."""

    def __init__(self, client: httpx.Client, admin_key: str, marker: str) -> None:
        def call(method: str, path: str, key: str, **kwargs) -> dict:  # noqa: ANN003
            response = client.request(method, path, headers=bearer(key), **kwargs)
            assert response.status_code in (200, 201), response.text
            return response.json()

        creator = call("POST", "/admin/creators", admin_key, json={"handle": unique("fz"), "display_name": "Fuzz"})
        self.creator_key = creator["api_key"]
        agent = call("POST", "/agents", self.creator_key, json={"handle": unique("fz"), "name": "F", "persona": "p"})
        self.agent_id = agent["id"]
        title, text = KNOWLEDGE[0]
        call("POST", f"/agents/{self.agent_id}/knowledge", self.creator_key, json={"title": title, "text": text})
        answer = call(
            "POST",
            f"/agents/{self.agent_id}/canonical-answers",
            self.creator_key,
            json={"question": f"What is {marker}?", "answer": f"{marker} answer", "layer": "friends"},
        )
        self.users = {
            tier: call("POST", "/admin/users", admin_key, json={"handle": unique("fz"), "tier": tier})["api_key"]
            for tier in ("free", "paid")
        }
        conversation = call("POST", "/messaging/conversations", self.users["paid"], json={"agent_id": self.agent_id})
        turn = call(
            "POST",
            "/orchestrator/message",
            self.users["paid"],
            json={"conversation_id": conversation["id"], "message": f"{NOVEL_QUESTION} {marker}"},
        )
        self.ids = {
            "agent_id": self.agent_id,
            "answer_id": answer["id"],
            "conversation_id": conversation["id"],
            "message_id": turn["message"]["id"],
            "escalation_id": turn["escalation"]["escalation_id"],
            "variant_id": answer["id"],  # an answer's original phrasing has the answer's id
        }


@pytest.fixture(scope="module")
def world(server: ServerProcess, admin_key: str) -> dict:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        ours = Tenant(client, admin_key, "OUR-TENANT")
        theirs = Tenant(client, admin_key, OTHER_TENANT_MARKER)
    keys = {
        "admin": admin_key,
        "creator": ours.creator_key,
        "user_free": ours.users["free"],
        "user_paid": ours.users["paid"],
        "nobody": None,
    }
    pools = {name: [ours.ids[name], theirs.ids[name], str(uuid.uuid4())] for name in ours.ids}
    return {"keys": keys, "pools": pools, "theirs": theirs}


class Fuzzer:
    """Sends generated requests for one operation at a time and keeps the tally."""

    def __init__(self, world: dict) -> None:
        self.world = world
        self.session = requests.Session()
        self.tried: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.by_role: Counter[str] = Counter()
        self.no_negative: list[str] = []
        theirs: Tenant = world["theirs"]
        self.foreign = [OTHER_TENANT_MARKER, theirs.creator_key, *theirs.users.values()]
        self.foreign += [theirs.ids[name] for name in ("conversation_id", "escalation_id", "message_id", "answer_id")]

    def run(self, operation, mode: GenerationMode) -> None:  # noqa: ANN001
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
        def fuzz(case, data) -> None:  # noqa: ANN001
            self.send(operation.label, case, data, real_ids=mode == GenerationMode.POSITIVE)

        try:
            fuzz()
        except Unsatisfiable:
            if mode == GenerationMode.POSITIVE:
                raise
            self.no_negative.append(operation.label)  # nothing about it can be invalid (no parameters or body)

    def send(self, label: str, case, data, *, real_ids: bool) -> None:  # noqa: ANN001
        role = data.draw(st.sampled_from(sorted(self.world["keys"])), label="role")
        if real_ids:
            for name in list(case.path_parameters or {}):
                if name in self.world["pools"]:
                    case.path_parameters[name] = data.draw(st.sampled_from(self.world["pools"][name]), label=name)
        key = self.world["keys"][role]
        # The generated case carries a made-up Authorization header of its own: replace (or drop) it.
        headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        case.headers = headers
        response = case.call(session=self.session, timeout=60)
        self.tried[label] += 1
        self.statuses[response.status_code] += 1
        self.by_role[role] += 1
        case.validate_response(response, checks=CHECKS, headers=headers)
        if role != "admin":
            leaked = [value for value in self.foreign if value in response.text]
            assert not leaked, f"{label} as {role} revealed another tenant's {leaked}"


def test_fuzz_every_operation_with_every_role(server: ServerProcess, world: dict, data_dir: Path) -> None:
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if not op.path.endswith(ENDLESS)]
    assert len(operations) >= 30, [op.label for op in operations]
    fuzzer = Fuzzer(world)
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzzer.run(operation, mode)

    total = sum(fuzzer.tried.values())
    summary = {
        "requests": total,
        "operations": len(operations),
        "statuses": dict(sorted(fuzzer.statuses.items())),
        "roles": dict(sorted(fuzzer.by_role.items())),
        "without_negative_inputs": len(fuzzer.no_negative),
    }
    (data_dir / "fuzz-summary.json").write_text(json.dumps(summary | {"per_operation": dict(fuzzer.tried)}, indent=2))
    print(f"\nfuzz: {json.dumps(summary)}")
    assert not any(status >= 500 for status in fuzzer.statuses)
    assert total >= len(operations) * 2 * min(EXAMPLES, 5)
