"""Confidence: before the answer (can the knowledge answer this question?) and after it (is this answer sound?).

Both are deterministic functions of the text and the retrieval, so evals reproduce them exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from langgraph.runtime import Runtime

from graphs.config import HIGH_STAKES_CATEGORIES, AgentConfig, ConfidenceEscalation
from graphs.context import Context
from graphs.state import State
from llm.self_assessment import SelfAssessment
from llm.text import content_terms, phrase_pattern, words
from nodes.reply import announce_decision

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


# --- After the answer: how confident is it really? -------------------------------------------------------------

_UNCERTAINTY = re.compile(
    r"\b(?:i'?m not sure|i am not sure|not certain|unsure|it depends|depends on|might|may be|maybe|possibly|"
    r"perhaps|i think|i believe|probably|unclear|i don'?t know|hard to say|could be|i don'?t have)\b",
    re.I,
)
UNCERTAINTY_PENALTY, UNCERTAINTY_CAP = 0.07, 0.28
HIGH_STAKES_PENALTY = 0.15
HIGH_LEVEL = 0.75


@dataclass(frozen=True, slots=True)
class Analysis:
    """The confidence of one answer: score, level, and the factors that moved it."""

    score: float
    level: str
    factors: list[dict]
    high_stakes: list[str]
    answered: bool = True
    """False when the draft addresses nothing of the question (the model said it has nothing)."""


def high_stakes_matches(text: str, config: ConfidenceEscalation) -> list[str]:
    """The high-stakes categories (and the creator's own keywords, as 'custom') the text touches."""
    found = [
        category
        for category, keywords in HIGH_STAKES_CATEGORIES.items()
        if any(_keyword(k).search(text) for k in keywords)
    ]
    if any(_keyword(k).search(text) for k in config.high_stakes_keywords):
        found.append("custom")
    return found


def never_auto_answer(text: str, categories: list[str], config: ConfidenceEscalation) -> bool:
    """Whether the creator marked this kind of question as never answered by the AI alone."""
    marked = set(config.never_auto_answer)
    return bool(marked & set(categories)) or any(_keyword(k).search(text) for k in marked - set(HIGH_STAKES_CATEGORIES))


def _keyword(keyword: str) -> re.Pattern[str]:
    return phrase_pattern(keyword, plurals=True)


def analyse_answer(
    *,
    question: str,
    answer: str,
    passages: list[str],
    retrieval_confidence: float,
    self_assessment: SelfAssessment | None,
    config: ConfidenceEscalation,
) -> Analysis:
    """Combine grounding, coverage, retrieval, the model's own view, hedges and stakes into one score."""
    knowledge_terms = set().union(*(content_terms(p) for p in passages)) if passages else set()
    answer_terms, asked = content_terms(answer), content_terms(question)
    grounding = len(answer_terms & knowledge_terms) / len(answer_terms) if answer_terms else 0.0
    coverage = len(asked & answer_terms) / len(asked) if asked else 0.0
    support = 0.5 * grounding + 0.5 * coverage
    factors = [
        {
            "name": "support",
            "value": round(support, 3),
            "detail": f"grounding {grounding:.2f}, coverage {coverage:.2f}",
        },
        {"name": "retrieval", "value": round(retrieval_confidence, 3)},
    ]
    parts = [(0.45, support), (0.25, retrieval_confidence)]
    if self_assessment is not None:
        parts.append((0.30, self_assessment.score))
        factors.append({"name": "self_assessment", "value": self_assessment.score, "detail": self_assessment.reason})
    score = sum(weight * value for weight, value in parts) / sum(weight for weight, _ in parts)

    hedges = [m.group(0).lower() for m in _UNCERTAINTY.finditer(answer)]
    if hedges:
        penalty = min(UNCERTAINTY_PENALTY * len(hedges), UNCERTAINTY_CAP)
        score -= penalty
        factors.append({"name": "uncertainty_markers", "value": -round(penalty, 3), "detail": ", ".join(hedges)})
    stakes = high_stakes_matches(question, config)
    if stakes:
        score -= HIGH_STAKES_PENALTY
        factors.append({"name": "high_stakes", "value": -HIGH_STAKES_PENALTY, "detail": ", ".join(stakes)})
    score = round(min(max(score, 0.0), 1.0), 4)
    high = max(HIGH_LEVEL, config.review_threshold)
    level = "HIGH" if score >= high else "MEDIUM" if score >= config.review_threshold else "LOW"
    return Analysis(score, level, factors, stakes, answered=grounding > 0 and coverage > 0)


def immediate_threshold(config: ConfidenceEscalation, high_stakes: bool) -> float:
    """Below it the answer is held back. A high-stakes question lowers the bar for escalation by mode:
    lenient keeps the threshold (the score penalty alone), standard raises it to the review threshold, and
    strict sends every high-stakes question to the creator when they can be asked."""
    threshold = config.effective_immediate_threshold
    if not high_stakes or config.mode == "lenient":
        return threshold
    return max(threshold, config.review_threshold) if config.mode == "standard" else 1.01


def choose_action(
    analysis: Analysis, config: ConfidenceEscalation, *, held: bool, can_escalate: bool, never_auto: bool
) -> str:
    """answer | review (disclaimer + 'ask the creator') | escalate (hold back, offer) | disclaimer | refuse."""
    if never_auto and held:
        return "escalate" if can_escalate else "refuse"
    if analysis.score < immediate_threshold(config, bool(analysis.high_stakes)):
        # Held back only if it has not been shown yet; a streamed answer can still get a disclaimer and an offer.
        if can_escalate:
            return "escalate" if held else "review"
        # Nothing to show and nobody to ask: say why instead of sending an empty answer.
        return "refuse" if held and not analysis.answered else "disclaimer"
    if analysis.score < config.review_threshold:
        return "review" if can_escalate else "disclaimer"
    return "answer"


async def assess_answer(state: State, runtime: Runtime[Context]) -> dict:
    """Score the draft and choose: answer, review (disclaimer + offer), escalate (hold back), or refuse."""
    if not state.get("analyse_answers"):
        return {"analysis": None}
    config = AgentConfig.model_validate(state["agent"]["config"]).confidence_escalation
    assessment = state.get("self_assessment")
    analysis = analyse_answer(
        question=state["text"],
        answer=state["draft"],
        passages=[chunk["text"] for chunk in state.get("knowledge", [])[:3]],
        retrieval_confidence=state["signals"]["confidence"],
        self_assessment=SelfAssessment(**assessment) if assessment else None,
        config=config,
    )
    held = state.get("hold", False)
    never_auto = never_auto_answer(state["text"], analysis.high_stakes, config)
    action = choose_action(
        analysis, config, held=held, can_escalate=state.get("escalation_block") is None, never_auto=never_auto
    )
    refusal = "never_auto_answer" if never_auto else state.get("escalation_block")
    path, reason = {"escalate": ("D", "low_confidence"), "refuse": ("F", refusal)}.get(action, ("A", state["reason"]))
    if held:
        announce_decision(state, runtime, path, reason)
    result = {"score": analysis.score, "level": analysis.level, "action": action, "factors": analysis.factors}
    return {"analysis": result, "path": path, "reason": reason}
