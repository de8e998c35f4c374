"""Small, deterministic text analysis shared by the signals, the canonical guard and the offline model."""

from __future__ import annotations

import math
import re
from functools import lru_cache

WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?")  # also glued to a unit: "5k", "10kg"
SENTENCE = re.compile(r"(?<=[.!?])\s+")

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having
    he her here hers herself him himself his how i if in into is it its itself just me more most my myself
    of off on once only or other our ours ourselves out over own same she should so some such than that the
    their theirs them themselves then there these they this those through to too under until up very was we
    were what when where which while who whom why will with would you your yours yourself yourselves
    get got tell know want need please thanks thank hi hello hey also really much many one like per via""".split()
)

NEGATIONS = frozenset(
    "not no non never none nobody nothing neither nor without cannot can't don't doesn't didn't isn't aren't "
    "wasn't weren't won't wouldn't shouldn't couldn't haven't hasn't hadn't dont doesnt didnt isnt arent "
    "wasnt werent wont wouldnt shouldnt couldnt cant".split()
)

# Negating prefixes: "undamaged" negates "damaged", "non-refundable" negates "refundable".
NEGATING_PREFIXES = ("un", "non", "in", "dis", "ir", "il", "im")


def words(text: str) -> list[str]:
    """Lower-cased word tokens, with curly apostrophes straightened."""
    return [w.lower().replace("’", "'") for w in WORD.findall(text)]


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light suffix stripper: enough to match 'refunds'/'refunded'/'refund' without a dictionary."""
    for suffix in ("ingly", "edly", "ings", "ing", "ies", "ied", "es", "ed", "ly", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            return base + "y" if suffix in ("ies", "ied") else base
    return word


def content_terms(text: str) -> set[str]:
    """Stemmed words that carry meaning (no stopwords, no negations)."""
    return {stem(w) for w in words(text) if w not in STOPWORDS and w not in NEGATIONS and len(w) > 1}


def sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE.split(" ".join(text.split())) if s.strip()]


NUMBER_WORDS = {
    word: str(value)
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen twenty".split()
    )
} | {"thirty": "30", "forty": "40", "fifty": "50", "hundred": "100", "thousand": "1000", "half": "0.5"}
ORDINALS = {
    word: f"#{rank}"
    for rank, word in enumerate("first second third fourth fifth sixth seventh eighth ninth tenth".split(), 1)
}


def numbers(text: str) -> set[str]:
    """The numbers a text mentions, in digits or words ("one-on-one" and "1-on-1" both give {"1"})."""
    found = {n.replace(",", ".") for n in NUMBER.findall(text)}
    tokens = words(text)
    return (
        found | {NUMBER_WORDS[w] for w in tokens if w in NUMBER_WORDS} | {ORDINALS[w] for w in tokens if w in ORDINALS}
    )


def idf_weights(documents: list[set[str]]) -> dict[str, float]:
    """Inverse document frequency of each term over a few documents (rarer terms say more)."""
    count = len(documents)
    frequency: dict[str, int] = {}
    for terms in documents:
        for term in terms:
            frequency[term] = frequency.get(term, 0) + 1
    weights = {term: math.log((count + 1) / (df + 1)) + 1 for term, df in frequency.items()}
    return weights | {"": math.log(count + 1) + 1}  # a term no document has weighs the most


def weighted_coverage(asked: set[str], covered: set[str], idf: dict[str, float]) -> float:
    """Share of the question's terms found, each weighted by its IDF."""
    if not asked:
        return 0.0
    weight = {term: idf.get(term, idf[""]) for term in asked}
    return sum(weight[t] for t in asked & covered) / sum(weight.values())


@lru_cache(maxsize=4096)
def phrase_pattern(phrase: str, *, plurals: bool = False) -> re.Pattern[str]:
    """Whole words and phrases, case-insensitive; any run of spaces matches any whitespace."""
    body = r"\s+".join(re.escape(part) for part in phrase.split())
    suffix = r"(?:s|es)?" if plurals else ""
    return re.compile(rf"(?<!\w){body}{suffix}(?!\w)", re.IGNORECASE)
