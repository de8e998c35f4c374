"""Verification before path C: similarity nominates a creator's answer, these checks decide whether to serve it.

A candidate is served only when
1. the paraphrase guard finds nothing that sets the question apart from the matched phrasing (numbers, negation,
   opposites, names);
2. no question a user said this answer did not answer is as close as its nearest phrasing (negative feedback);
3. the answer classifier (llm/answer_classifier.py) ranks this answer first, and either
   - the question is one of the answer's own phrasings (word for word, up to case, spacing and end punctuation):
     with hundreds of answers the classifier spreads its probability so thin that even those fall under
     AGREE_PROBABILITY (the soak's agent, 40 answers plus 600 answered escalations: 15 of the 40 answers' own
     questions did, and went to the creator), or
   - the question is a close paraphrase (cosine >= the creator's canonical_similarity_threshold) and the
     classifier agrees with at least AGREE_PROBABILITY (AGREE_PROBABILITY_LEARNED once it has learned the answer
     from several phrasings, when its word counts for more), or
   - the classifier has seen enough other answers to tell them apart, the answer has gathered at least
     LEARNED_MIN_VARIANTS phrasings, the question is within LEARNED_FLOOR of one
     and the classifier is confident (>= LEARNED_PROBABILITY): answers that learned many ways of being asked are
     reused more generously.
The constants were picked on CLINC150's validation split and measured on its test split (`orchestrator eval
reuse`); the whole check is a few dot products, well under a millisecond.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from llm.answer_classifier import AnswerClassifier
from nodes.canonical import paraphrase_guard
from stores.variants import normalize_question

AGREE_PROBABILITY = 0.30
AGREE_PROBABILITY_LEARNED = 0.50
LEARNED_MIN_VARIANTS = 3
LEARNED_FLOOR = 0.70
LEARNED_PROBABILITY = 0.80


@dataclass(frozen=True, slots=True)
class Candidate:
    """An answer nominated by vector search: its nearest phrasing and how many phrasings it has."""

    answer_id: str
    phrasing: str
    similarity: float
    variants: int


def nomination_floor(threshold: float) -> float:
    """The similarity below which no candidate is even checked."""
    return min(threshold, LEARNED_FLOOR)


@dataclass(frozen=True, slots=True)
class Verdict:
    serve: bool
    reason: str
    """exact_phrasing | close_paraphrase | learned_paraphrase, or why not: a guard reason, rejected_before,
    not_first, unverified."""
    probability: float


def verify(
    question: str,
    embedding: Sequence[float],
    candidate: Candidate,
    classifier: AnswerClassifier,
    negatives: Sequence[Sequence[float]],
    threshold: float,
) -> Verdict:
    """Whether `candidate` answers `question`; `negatives` are embeddings of questions it was said not to answer."""
    if why := paraphrase_guard(question, candidate.phrasing):
        return Verdict(False, why, 0.0)
    if len(negatives) and float(np.max(np.asarray(negatives) @ np.asarray(embedding))) >= candidate.similarity:
        return Verdict(False, "rejected_before", 0.0)
    probability, first = classifier.probability(embedding, candidate.answer_id)
    if not first:
        return Verdict(False, "not_first", probability)
    if normalize_question(question) == normalize_question(candidate.phrasing):
        return Verdict(True, "exact_phrasing", probability)
    learned = classifier.discriminates and candidate.variants >= LEARNED_MIN_VARIANTS
    agree = AGREE_PROBABILITY_LEARNED if learned else AGREE_PROBABILITY
    if candidate.similarity >= threshold and probability >= agree:
        return Verdict(True, "close_paraphrase", probability)
    if learned and candidate.similarity >= LEARNED_FLOOR and probability >= LEARNED_PROBABILITY:
        return Verdict(True, "learned_paraphrase", probability)
    return Verdict(False, "unverified", probability)


def first_verified(
    question: str,
    embedding: Sequence[float],
    candidates: Sequence[Candidate],
    classifier: AnswerClassifier,
    negatives: Mapping[str, Sequence[Sequence[float]]],
    threshold: float,
) -> tuple[tuple[Candidate, Verdict] | None, list[tuple[Candidate, Verdict]]]:
    """Check nominated candidates nearest first: (the first that passes, with its verdict, or None; the rejected)."""
    rejected = []
    for candidate in candidates:
        if candidate.similarity < nomination_floor(threshold):
            break
        verdict = verify(question, embedding, candidate, classifier, negatives.get(candidate.answer_id, ()), threshold)
        if verdict.serve:
            return (candidate, verdict), rejected
        rejected.append((candidate, verdict))
    return None, rejected
