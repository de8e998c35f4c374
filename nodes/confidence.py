"""Complexity of a question and the confidence that the creator's knowledge can answer it.

Both are deterministic functions of the text and the retrieval, so evals reproduce them exactly.
"""

from __future__ import annotations

import re

from llm.text import content_terms, words

_CLAUSE_MARKERS = re.compile(r",|;|\b(?:and|but|or|because|while|although|though|unless|whereas|if)\b", re.I)
_PERSONAL = re.compile(r"\b(?:my|i have|i've|i'm|i am|should i|for me|in my case|my situation)\b", re.I)
_REASONING = re.compile(
    r"\b(?:why|compare|comparison|versus|vs|difference|trade-?offs?|pros and cons|plan|strategy|recommend|"
    r"best way|what if|depends)\b",
    re.I,
)


def complexity_score(text: str) -> float:
    """0 for a short plain question, towards 1 for long, multi-part, personal, reasoning-heavy ones."""
    count = len(words(text))
    score = 0.45 * min(count / 40, 1.0)
    score += 0.20 * min(len(_CLAUSE_MARKERS.findall(text)) / 4, 1.0)
    score += 0.15 * min(max(text.count("?") - 1, 0) / 2, 1.0)
    score += 0.10 if _PERSONAL.search(text) else 0.0
    score += 0.10 if _REASONING.search(text) else 0.0
    return round(min(score, 1.0), 4)


def knowledge_support(question: str, passages: list[str]) -> float:
    """Share of the question's meaning-bearing words that the retrieved passages contain."""
    asked = content_terms(question)
    if not asked:
        return 0.0
    found = set().union(*(content_terms(p) for p in passages)) if passages else set()
    return round(len(asked & found) / len(asked), 4)


def answer_confidence(knowledge_similarity: float, support: float, complexity: float) -> float:
    """How likely an AI answer from the retrieved knowledge is right: retrieval, coverage, simplicity."""
    # MiniLM cosine between a question and a passage that answers it is ~0.4-0.8; unrelated text ~0.0-0.3.
    retrieval = min(max((knowledge_similarity - 0.15) / 0.45, 0.0), 1.0)
    return round(min(max(0.45 * retrieval + 0.40 * support + 0.15 * (1 - complexity), 0.0), 1.0), 4)
