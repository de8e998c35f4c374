"""The ASGI layer in front of every route: request id, access log, body size limit and the per-address rate.

Pure ASGI rather than Starlette's BaseHTTPMiddleware, so SSE responses stream through untouched.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ApiError, api_error_response, rate_limited
from api.logs import request_id

log = logging.getLogger("orchestrator.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_UNLIMITED_PATHS = ("/health",)  # probes must see the service, whoever sends them


class EdgeMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        given = headers.get("x-request-id", "")
        rid = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), (b"x-request-id", rid.encode())]}
            await send(message)

        try:
            services = scope["app"].state.services
            settings = services.settings
            limit = settings.max_body_bytes
            too_large = ApiError(413, "payload_too_large", f"request body over {limit} bytes")
            if (length := headers.get("content-length")) is not None and _too_long(length, limit):
                await api_error_response(too_large)(scope, receive, send_with_id)
                return
            if scope["path"] not in _UNLIMITED_PATHS:
                client = (scope.get("client") or ("unknown", 0))[0]
                verdict = await services.limiter.hit(f"ip:{client}", settings.rate_limit_per_ip)
                if not verdict.allowed:
                    error = rate_limited("too many requests from this address", verdict.retry_after_s)
                    await api_error_response(error)(scope, receive, send_with_id)
                    return
            try:
                await self.app(scope, _capped(receive, limit), send_with_id)
            except _BodyTooLarge:
                if status == 0:  # a route that reads its body itself (FastAPI's answer 413 on their own)
                    await api_error_response(too_large)(scope, receive, send_with_id)
        finally:
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            request_id.reset(token)


class _BodyTooLarge(HTTPException):
    """Raised from receive(): FastAPI re-raises HTTPExceptions met while reading a body, so the client sees 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body over {limit} bytes")


def _too_long(length: str, limit: int) -> bool:
    try:
        return int(length) > limit
    except ValueError:
        return True


def _capped(receive: Receive, limit: int) -> Receive:
    """A chunked body (no Content-Length) is counted as it arrives and cut off at the limit."""
    seen = 0

    async def capped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _BodyTooLarge(limit)
        return message

    return capped
