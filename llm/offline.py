"""The offline chat model: a real BaseChatModel that answers by extracting from the retrieved knowledge.

It reads the same prompt ChatOpenAI would get (persona and numbered knowledge passages in the system message,
the question last), picks the passages' sentences that share the most meaning-bearing words with the question,
and streams them word by word; when those sentences cover less than 40% of the question (rare words weighing
more), it says it has nothing on that instead of answering something else. Deterministic, so the product works and evals reproduce without a network.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from llm.text import content_terms, idf_weights, sentences, weighted_coverage

PASSAGE = re.compile(r"^\[(\d+)\]\s*(?:\(([^)]*)\)\s*)?(.*)$")
NO_ANSWER = "I don't have anything from the creator's material on that yet."


class OfflineChatModel(BaseChatModel):
    """Extractive, deterministic answers grounded in the knowledge passages of the prompt."""

    max_sentences: int = 3
    min_coverage: float = 0.4
    """Answer only if the chosen sentences cover at least this share of the question (IDF-weighted)."""

    @property
    def _llm_type(self) -> str:
        return "orchestrator-offline"

    def answer(self, messages: list[BaseMessage]) -> str:
        system = "\n".join(str(m.content) for m in messages if isinstance(m, SystemMessage))
        question = next((str(m.content) for m in reversed(messages) if isinstance(m, HumanMessage)), "")
        asked = content_terms(question)
        passages = _passages(system)
        idf = idf_weights([content_terms(f"{title} {text}") for title, text in passages])
        scored: list[tuple[float, int, str, set[str]]] = []
        candidates = ((title, s) for title, text in passages for s in sentences(text))
        for order, (title, sentence) in enumerate(candidates):
            if own := asked & content_terms(sentence):
                # Prefer sentences covering more of the question; earlier passages break ties (better retrieval).
                # Coverage counts the passage's title too: "Beginner strength program" covers "program".
                in_context = asked & content_terms(f"{title} {sentence}")
                scored.append((-weighted_coverage(asked, own, idf), order, sentence, in_context))
        best = sorted(scored)[: self.max_sentences]
        covered = set().union(*(terms for *_, terms in best)) if best else set()
        if weighted_coverage(asked, covered, idf) < self.min_coverage:
            return NO_ANSWER  # the knowledge touches the question but does not answer it
        return " ".join(sentence for _, _, sentence, _ in sorted(best, key=lambda item: item[1]))

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


def _passages(system: str) -> list[tuple[str, str]]:
    """(title, text) of each numbered knowledge passage in the prompt."""
    return [
        (match.group(2) or "", match.group(3)) for line in system.splitlines() if (match := PASSAGE.match(line.strip()))
    ]


def _tokens(text: str) -> list[str]:
    """Words with their trailing space, so the streamed tokens join back into the exact text."""
    return re.findall(r"\S+\s*", text)
