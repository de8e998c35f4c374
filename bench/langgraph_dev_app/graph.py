"""Orchestrator's graph as `langgraph dev` serves it, for bench/versus_langgraph_dev.py.

The same compiled builder as graphs/orchestrator.py; its nodes need our Context (stores, embedder, model), which
cannot travel as JSON in a run request, so the graph carries it in its config as a parent runtime: LangGraph
merges a run's runtime over it, keeping our context and the server's stream writer and checkpointer.
"""

from __future__ import annotations

import asyncio

from langgraph._internal._constants import CONF, CONFIG_KEY_RUNTIME  # where LangGraph keeps a parent runtime
from langgraph.pregel import Pregel
from langgraph.runtime import Runtime

from api.services import start_services
from api.settings import Settings
from graphs.orchestrator import builder

_graph: Pregel | None = None
_lock = asyncio.Lock()


async def make_graph(config: dict) -> Pregel:
    """The graph factory langgraph.json names: services start once, on the first run."""
    global _graph
    async with _lock:
        if _graph is None:
            services = await start_services(Settings())
            graph = builder.compile(name="orchestrator")
            # The server would build a Context from the request's JSON context ({}); without a schema that {}
            # stays empty and the merge falls back to the parent runtime's context.
            graph.context_schema = None
            graph.config = {CONF: {CONFIG_KEY_RUNTIME: Runtime(context=services.context)}}
            _graph = graph
    return _graph
