"""Vectors as pgvector text literals: psycopg sends them as text and Postgres casts with ::vector."""

from __future__ import annotations

from collections.abc import Sequence


def to_vector(values: Sequence[float]) -> str:
    return "[" + ",".join(f"{v:.7g}" for v in values) + "]"
