"""Messaging channels: webhook formats, adapters that send over each platform's HTTP API, the ingestion queue and
the worker that runs the graph for channel messages."""
