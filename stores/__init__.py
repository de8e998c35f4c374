"""Postgres (system of record, pgvector) and Redis (live events), plus the embedded servers for both."""
