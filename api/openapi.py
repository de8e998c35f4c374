"""The OpenAPI document, with the error responses every operation can give written down.

FastAPI documents only the success status and 422. Every route here can also answer 401/403 (keys), 404
(someone else's resource looks like no resource), 409 (a decision already taken), 413 and 429 (the abuse limits)
and 503 (Postgres or Redis away): documenting them in one place keeps the contract honest, and lets a fuzzer
(tests/test_fuzz.py) hold every response to the schema.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}
ERRORS = {
    "400": "the request cannot be read (a malformed header or Last-Event-ID)",
    "401": "no API key, or not a valid one",
    "403": "the key's role may not use this route",
    "404": "no such resource, or it is not the caller's",
    "409": "conflicts with what is already stored or decided",
    "413": "the request body is over the size limit",
    "422": "the request does not validate",
    "429": "a rate or concurrent-stream limit; see Retry-After",
    "502": "a turn or a resumed decision could not be completed; it is stored and retried",
    "503": "Postgres or Redis is not answering; retry (see Retry-After)",
}


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        for operations in schema["paths"].values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status, description in ERRORS.items():
                    responses[status] = {"description": description, **error}  # 422 too: our shape, not FastAPI's
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
