"""One error shape for every failure: {"error": {"code", "message"}} with a fitting status; 5xx never leak."""

from __future__ import annotations

import logging

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from redis.exceptions import RedisError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


class ApiError(Exception):
    """An expected failure the client should see as is."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def rate_limited(what: str, retry_after_s: int) -> ApiError:
    return ApiError(429, "rate_limited", f"{what}; retry in {retry_after_s} s", {"Retry-After": str(retry_after_s)})


STORE_OUTAGES = (PoolTimeout, psycopg.OperationalError, psycopg.InterfaceError)


def unavailable() -> ApiError:
    return ApiError(503, "unavailable", "the service is temporarily unavailable, please retry", {"Retry-After": "2"})


def turn_error(exc: BaseException) -> ApiError:
    """What the client is told of a turn that failed midway (its message is stored; details stay in the log)."""
    if isinstance(exc, STORE_OUTAGES):  # resend it under its Idempotency-Key once the store is back
        return unavailable()
    return ApiError(502, "turn_failed", "the answer could not be completed; please retry")


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: object
) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status, headers=headers)


def api_error_response(error: ApiError) -> JSONResponse:
    return error_response(error.status, error.code, error.message, error.headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return api_error_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        return error_response(exc.status_code, _HTTP_CODES.get(exc.status_code, "error"), message)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": [str(part) for part in err.get("loc", ())], "message": err.get("msg", "")} for err in exc.errors()
        ]
        first = details[0] if details else {"loc": [], "message": "invalid request"}
        where = ".".join(p for p in first["loc"] if p not in ("body",)) or "request"
        return error_response(422, "validation_error", f"{where}: {first['message']}", details=details)

    # A Postgres restart surfaces as a lost connection (OperationalError) on a connection in use, or as a wait
    # for a free one that times out (PoolTimeout): either way the client gets a clear 503 to retry, not a hang.
    async def _database_unavailable(_: Request, exc: Exception) -> JSONResponse:
        log.error("database unavailable: %s", type(exc).__name__)
        return api_error_response(unavailable())

    for outage in STORE_OUTAGES:
        app.add_exception_handler(outage, _database_unavailable)

    @app.exception_handler(RedisError)
    async def _redis_unavailable(_: Request, exc: RedisError) -> JSONResponse:
        log.error("redis unavailable: %s", exc)
        return error_response(503, "unavailable", "live events are temporarily unavailable, please retry")

    # The safety net behind the request models' text validation (api/schemas.storable): text Postgres cannot
    # store fails its statement, so nothing of it was written.
    @app.exception_handler(UnicodeEncodeError)
    @app.exception_handler(psycopg.DataError)
    async def _unstorable(_: Request, exc: Exception) -> JSONResponse:
        log.warning("request with unstorable data: %s", type(exc).__name__)
        return error_response(422, "validation_error", "the request holds text that cannot be stored")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error_response(500, "internal_error", "internal server error")
