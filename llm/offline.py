"""The offline chat model: a real BaseChatModel that answers by extracting from the retrieved knowledge.

It reads the same prompt ChatOpenAI would get (persona and numbered knowledge passages in the system message,
the question last), picks the passages' sentences that share the most meaning-bearing words with the question,
and streams them word by word. Deterministic, so the product works and evals reproduce without a network.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from llm.text import content_terms, sentences

PASSAGE = re.compile(r"^\[(\d+)\]\s*(?:\(([^)]*)\)\s*)?(.*)$")
NO_ANSWER = "I don't have anything from the creator's material on that yet."


class OfflineChatModel(BaseChatModel):
    """Extractive, deterministic answers grounded in the knowledge passages of the prompt."""

    max_sentences: int = 3

    @property
    def _llm_type(self) -> str:
        return "orchestrator-offline"

    def answer(self, messages: list[BaseMessage]) -> str:
        system = "\n".join(str(m.content) for m in messages if isinstance(m, SystemMessage))
        question = next((str(m.content) for m in reversed(messages) if isinstance(m, HumanMessage)), "")
        asked = content_terms(question)
        scored: list[tuple[float, int, str]] = []
        for order, sentence in enumerate(_passage_sentences(system)):
            overlap = len(asked & content_terms(sentence))
            if overlap:
                # Prefer sentences covering more of the question; earlier passages break ties (better retrieval).
                scored.append((-overlap / (len(asked) or 1), order, sentence))
        if not scored:
            return NO_ANSWER
        best = sorted(scored)[: self.max_sentences]
        return " ".join(sentence for _, _, sentence in sorted(best, key=lambda item: item[1]))

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self.answer(messages)))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for token in _tokens(self.answer(messages)):
            yield ChatGenerationChunk(message=AIMessageChunk(content=token))

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        for token in _tokens(self.answer(messages)):
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=token))
            if run_manager:
                await run_manager.on_llm_new_token(token, chunk=chunk)
            yield chunk


def _passage_sentences(system: str) -> list[str]:
    found = []
    for line in system.splitlines():
        if match := PASSAGE.match(line.strip()):
            found.extend(sentences(match.group(3)))
    return found


def _tokens(text: str) -> list[str]:
    """Words with their trailing space, so the streamed tokens join back into the exact text."""
    return re.findall(r"\S+\s*", text)
