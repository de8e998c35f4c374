"""The chat model for path A: ChatOpenAI when a key is set (any OpenAI-compatible server), else offline."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

from llm.offline import OfflineChatModel


def create_chat_model(api_key: str | None, base_url: str | None, model: str) -> BaseChatModel:
    if not api_key:
        return OfflineChatModel()
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=model,
        api_key=api_key,
        base_url=base_url,
        temperature=0.2,
        streaming=True,
        max_retries=1,
        timeout=60,
    )  # type: ignore[call-arg]
