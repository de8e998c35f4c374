"""Vectors as pgvector text literals: psycopg sends them as text and Postgres casts with ::vector."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache


def to_vector(values: Sequence[float]) -> str:
    # A turn searches canonical answers and knowledge with the same embedding: formatting 384 floats costs
    # ~75 µs, hashing the tuple ~5 µs, so recent literals are kept. Only the turns in flight need theirs, and an
    # entry holds ~16 KB (the floats, their tuple, the text).
    return _literal(tuple(values))


@lru_cache(maxsize=64)
def _literal(values: tuple[float, ...]) -> str:
    return "[" + ",".join(f"{v:.7g}" for v in values) + "]"
