"""Local stand-ins for the Telegram Bot API and Meta's Graph API: they answer as the platforms do and record every
request, so tests see exactly what the channel adapters sent."""

from __future__ import annotations

import itertools
import time

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.utils.servers import InThreadServer


class PlatformStub(InThreadServer):
    """Telegram (`/bot{token}/{method}`) and Graph API (`/{phone_number_id}/messages`, `/me/messages`) in one server."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.fail_next = 0
        """Answer this many sends with a 500 before behaving again (retry tests)."""
        self._ids = itertools.count(1000)
        super().__init__(
            routes=[
                Route("/bot{token}/{method}", self._telegram, methods=["POST"]),
                Route("/me/messages", self._page_send, methods=["POST"]),
                Route("/{phone_number_id}/messages", self._whatsapp_send, methods=["POST"]),
            ]
        )

    def sent(self, **match: object) -> list[dict]:
        """Recorded requests whose fields (path, token, method, and body keys) match."""
        return [r for r in self.requests if all(r.get(k) == v or r["body"].get(k) == v for k, v in match.items())]

    def wait_for(self, count: int = 1, timeout: float = 60, **match: object) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(found := self.sent(**match)) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"expected {count} request(s) matching {match}; got {self.sent(**match)}")

    async def _record(self, request: Request, **fields: object) -> bool:
        """Record the request; True when it should fail."""
        self.requests.append(
            {"path": request.url.path, "headers": dict(request.headers), "body": await request.json(), **fields}
        )
        if self.fail_next > 0:
            self.fail_next -= 1
            return True
        return False

    async def _telegram(self, request: Request) -> JSONResponse:
        token, method = request.path_params["token"], request.path_params["method"]
        if await self._record(request, token=token, method=method):
            return JSONResponse({"ok": False, "error_code": 500, "description": "Internal Server Error"}, 500)
        if method == "sendMessage":
            return JSONResponse({"ok": True, "result": {"message_id": next(self._ids), "date": int(time.time())}})
        return JSONResponse({"ok": True, "result": True})

    async def _whatsapp_send(self, request: Request) -> JSONResponse:
        if await self._record(request, method="whatsapp"):
            return JSONResponse({"error": {"message": "(#131000) Something went wrong", "code": 131000}}, 500)
        body = self.requests[-1]["body"]
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
                "messages": [{"id": f"wamid.{next(self._ids)}"}],
            }
        )

    async def _page_send(self, request: Request) -> JSONResponse:
        if await self._record(request, method="page"):
            return JSONResponse({"error": {"message": "(#2) Service temporarily unavailable", "code": 2}}, 500)
        recipient = (self.requests[-1]["body"].get("recipient") or {}).get("id")
        return JSONResponse({"recipient_id": recipient, "message_id": f"m_{next(self._ids)}"})
