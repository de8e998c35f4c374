"""Path C: serve the creator's own answer, verbatim with attribution, only for a true paraphrase.

Embeddings score near-misses high ("refund for a damaged order" vs "...an undamaged order": 0.86), so a
candidate above the similarity threshold must also pass a guard: same numbers, same negation, same names.
"""

from __future__ import annotations

import re
import uuid

from langgraph.runtime import Runtime

from graphs.context import Context
from graphs.state import State
from llm.text import NEGATING_PREFIXES, NEGATIONS, numbers, sentences, words
from nodes.reply import send_reply

_CAPITALISED = re.compile(r"^[A-Z][a-zA-Z]+$")
# Words whose opposite turns a question around: "cancel before it starts" vs "cancel after it starts".
ANTONYMS = (
    ("before", "after"),
    ("more", "less"),
    ("more", "fewer"),
    ("above", "below"),
    ("over", "under"),
    ("early", "late"),
    ("earlier", "later"),
    ("increase", "decrease"),
    ("gain", "lose"),
    ("minimum", "maximum"),
    ("include", "exclude"),
    ("includes", "excludes"),
    ("allowed", "forbidden"),
    ("open", "closed"),
    ("start", "end"),
    ("first", "last"),
    ("cheaper", "pricier"),
    ("morning", "evening"),
    ("buy", "sell"),
)


def paraphrase_guard(asked: str, stored: str) -> str | None:
    """Why `asked` is not a paraphrase of `stored` (None when nothing sets them apart)."""
    if numbers(asked) != numbers(stored):
        return "number_mismatch"
    asked_words, stored_words = words(asked), words(stored)
    if _negated(asked_words) != _negated(stored_words) or _prefix_negates(asked_words, stored_words):
        return "negation_mismatch"
    if _opposed(set(asked_words), set(stored_words)):
        return "antonym_mismatch"
    if _names(asked) != _names(stored):
        return "entity_mismatch"
    return None


def _negated(tokens: list[str]) -> bool:
    """Whether the text is negated overall (an odd number of negations)."""
    return sum(token in NEGATIONS for token in tokens) % 2 == 1


def _prefix_negates(a: list[str], b: list[str]) -> bool:
    """A word in one text is a prefix-negated word of the other: 'undamaged' vs 'damaged'."""
    a_set, b_set = set(a), set(b)
    for one, other in ((a_set, b_set), (b_set, a_set)):
        for word in one - other:
            for prefix in NEGATING_PREFIXES:
                if word.startswith(prefix) and word[len(prefix) :].lstrip("-") in other:
                    return True
    return False


def _opposed(a: set[str], b: set[str]) -> bool:
    """One text says a word and the other its opposite (and not the word itself)."""
    return any(
        (x in a and y in b and x not in b and y not in a) or (y in a and x in b and y not in b and x not in a)
        for x, y in ANTONYMS
    )


def _names(text: str) -> set[str]:
    """Capitalised words that do not start a sentence (named things), lower-cased; 'I' is not a name."""
    names = set()
    for sentence in sentences(text):
        for token in sentence.split()[1:]:
            token = token.strip(".,!?;:\"'()")
            if _CAPITALISED.match(token):
                names.add(token.lower())
    return names


async def serve_canonical(state: State, runtime: Runtime[Context]) -> dict:
    """Send the matched canonical answer word for word, attributed to the creator, and count the reuse."""
    match = state["canonical_match"]
    assert match is not None
    await runtime.context.canonical.count_reuse(uuid.UUID(match["id"]), uuid.UUID(state["message_id"]))
    reply = await send_reply(
        state,
        runtime,
        step="reply",
        content=match["answer"],
        path="C",
        metadata={
            "canonical_answer_id": match["id"],
            "attribution": f"Answered by {state['agent']['creator_name']}",
            "similarity": match["similarity"],
        },
    )
    return {"reply": reply}
