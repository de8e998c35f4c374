"""API keys: rotation without downtime (old and new keys both work for the grace period, then only the new one),
admin rotation of someone else's key, and who may rotate what."""

from __future__ import annotations

import asyncio

import psycopg

from tests.utils.api import Api, bearer


async def test_rotating_ones_own_key_keeps_the_old_one_for_the_grace_period(api: Api, database_url: str) -> None:
    world = await api.world()
    old = world.creator_key
    rotated = await api.call("POST", "/me/keys/rotate", old, expect=201, json={"grace_seconds": 2})
    new = rotated["api_key"]
    assert new != old and rotated["role"] == "creator" and rotated["previous_keys"] == 1
    assert rotated["previous_keys_expire_at"] is not None
    # During the grace period both work, so clients switch over without a failed request.
    for key in (old, new):
        assert (await api.call("GET", f"/agents/{world.agent_id}/canonical-answers", key)) == []
    await asyncio.sleep(2.5)
    response = await api.client.get("/me", headers=bearer(old))
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
    assert (await api.call("GET", "/me", new))["role"] == "creator"
    with psycopg.connect(database_url) as conn:
        stored = [row[0] for row in conn.execute("SELECT key_hash FROM api_keys")]
    assert new not in stored and old not in stored


async def test_an_admin_rotates_a_users_key_at_once(api: Api) -> None:
    world = await api.world()
    old = world.users["paid"]
    me = await api.call("GET", "/me", old)
    rotated = await api.call(
        "POST", "/admin/keys/rotate", api.admin_key, expect=201, json={"principal_id": me["id"], "grace_seconds": 0}
    )
    assert rotated["role"] == "user" and rotated["handle"] == me["handle"]
    assert (await api.client.get("/me", headers=bearer(old))).status_code == 401
    assert (await api.call("GET", "/me", rotated["api_key"]))["id"] == me["id"]
    # Rotating twice leaves only the newest key working.
    again = await api.call(
        "POST", "/admin/keys/rotate", api.admin_key, expect=201, json={"principal_id": me["id"], "grace_seconds": 0}
    )
    assert (await api.client.get("/me", headers=bearer(rotated["api_key"]))).status_code == 401
    assert (await api.call("GET", "/me", again["api_key"]))["id"] == me["id"]


async def test_only_an_admin_rotates_other_peoples_keys(api: Api) -> None:
    world = await api.world()
    me = await api.call("GET", "/me", world.users["free"])
    for key in (world.creator_key, world.users["paid"]):
        response = await api.client.post("/admin/keys/rotate", json={"principal_id": me["id"]}, headers=bearer(key))
        assert response.status_code == 403
    missing = await api.client.post(
        "/admin/keys/rotate",
        json={"principal_id": "00000000-0000-0000-0000-000000000000"},
        headers=bearer(api.admin_key),
    )
    assert missing.status_code == 404
    too_long = await api.client.post(
        "/me/keys/rotate", json={"grace_seconds": 31 * 86_400}, headers=bearer(world.users["free"])
    )
    assert too_long.status_code == 422
    assert (await api.call("GET", "/me", world.users["free"]))["id"] == me["id"]  # nothing changed
