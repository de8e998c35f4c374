"""decide_path: the routing policy of DESIGN.md's table, as one readable function, and the `decision` event."""

from __future__ import annotations

from langgraph.runtime import Runtime

from graphs.config import AgentConfig
from graphs.context import Context
from graphs.state import State
from llm.text import content_terms, words
from nodes.confidence import high_stakes_matches, never_auto_answer
from nodes.reply import announce_decision

VAGUE_MAX_WORDS = 4
QUESTION_WORDS = frozenset(
    "what how why when where which who whom whose can could should would do does did is are was were will may".split()
)
VAGUE_MAX_COMPLEXITY = 0.25


def choose_path(state: State) -> tuple[str, str]:
    """(path, reason) for a new question, from the rules' verdicts and the signals."""
    config = AgentConfig.model_validate(state["agent"]["config"])
    signals = state["signals"]
    if state.get("refusal"):
        return "F", state["refusal"]  # type: ignore[return-value]
    if state.get("canonical_match"):
        return "C", "canonical_match"
    if state.get("not_answered"):  # the user said the last answer missed: the creator, or a clear no
        if state.get("escalation_block") is None:
            return "D", "not_answered"
        return "F", state["escalation_block"]  # type: ignore[return-value]
    confident = signals["confidence"] >= config.auto_answer_confidence_threshold
    novel = signals["novelty"] >= config.novelty_escalation_threshold
    complex_ = signals["complexity"] >= config.complexity_escalation_threshold
    if config.clarification_enabled and is_vague(state):
        return "B", "vague_question"
    if confident and not complex_:
        return "A", "confident"
    wanted = "novel" if novel else "complex" if complex_ else "low_confidence"
    if wanted == "low_confidence" and state.get("analyse_answers"):
        return "A", "low_confidence"  # drafted and checked: the analysis decides between answer and escalation
    if state.get("escalation_block") is None:
        return "D", wanted
    if not novel:
        return "A", "best_effort"  # the creator can't be asked, but their knowledge covers some of it
    return "F", state["escalation_block"]  # type: ignore[return-value]


def is_vague(state: State) -> bool:
    """Short, simple and unspecific, and the last agent turn was not already a clarification."""
    last_agent = next((m for m in reversed(state.get("history", [])) if m["role"] == "agent"), None)
    if last_agent is not None and last_agent["path"] == "B":
        return False
    return is_vague_text(state["text"]) and state["signals"]["complexity"] <= VAGUE_MAX_COMPLEXITY


def is_vague_text(text: str) -> bool:
    """A few words that do not form a question about something ("protein?", "what about sleep")."""
    tokens = words(text)
    if len(tokens) > VAGUE_MAX_WORDS:
        return False
    asks = bool(tokens) and tokens[0] in QUESTION_WORDS and tokens[1:2] != ["about"]
    return not (asks and content_terms(text))


def should_hold(state: State, path: str, reason: str) -> bool:
    """Draft a path A answer unseen when the analysis may hold it back: not plainly confident, or high stakes."""
    if path != "A" or not state.get("analyse_answers"):
        return False
    config = AgentConfig.model_validate(state["agent"]["config"]).confidence_escalation
    stakes = high_stakes_matches(state["text"], config)
    return reason != "confident" or bool(stakes) or never_auto_answer(state["text"], stakes, config)


async def decide_path(state: State, runtime: Runtime[Context]) -> dict:
    """Pick the path and announce it: the first event of every turn (a held draft announces after its check)."""
    path, reason = choose_path(state)
    hold = should_hold(state, path, reason)
    if not hold:
        announce_decision(state, runtime, path, reason)
    return {"path": path, "reason": reason, "hold": hold}
