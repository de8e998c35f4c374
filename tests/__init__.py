"""Orchestrator's test suite: real Postgres + pgvector and Redis, the server over real HTTP."""
