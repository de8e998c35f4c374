"""The pages: chat for users, inbox and dashboard for creators. Plain HTML + JS from web/, no CDN, no build."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

WEB_DIR = Path(__file__).resolve().parents[2] / "web"

router = APIRouter(include_in_schema=False)


def _page(name: str) -> FileResponse:
    return FileResponse(WEB_DIR / name, media_type="text/html", headers={"Cache-Control": "no-cache"})


@router.get("/")
@router.get("/chat/{agent_handle}")
async def chat_page(agent_handle: str | None = None) -> FileResponse:
    return _page("chat.html")


@router.get("/creator")
async def inbox_page() -> FileResponse:
    return _page("creator.html")


@router.get("/creator/agents/{agent_id}")
async def dashboard_page(agent_id: str) -> FileResponse:
    return _page("dashboard.html")
