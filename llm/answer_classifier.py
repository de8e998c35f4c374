"""Which of a creator's answers a question asks for: a linear classifier over the answers' question variants.

Cosine similarity to the nearest stored phrasing cannot tell "what is my credit limit" from "can I raise my credit
limit" (0.85 apart). A multinomial logistic regression trained on every answer's variants learns which directions
of the embedding separate one answer from the others, and questions users said an answer did not answer are
trained as a "none of them" class. Fitting takes ~0.3 s for 750 variants of 75 answers on one core here.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

log = logging.getLogger(__name__)

NONE_OF_THEM = "__none__"
# Regularisation picked on CLINC150's validation split (evals/reuse.py): C=10 separated near intents best.
REGULARISATION_C = 10.0
# Below this many classes a confident probability says little (with one answer it is always 1.0).
MIN_CLASSES_TO_DISCRIMINATE = 5


@dataclass(frozen=True, slots=True)
class Example:
    """One training phrasing: the answer it asks for, or None for a question an answer did not answer."""

    answer_id: uuid.UUID | str | None
    embedding: Sequence[float]


class AnswerClassifier:
    """Probabilities that a question asks for each answer (and for none of them)."""

    def __init__(self, examples: Sequence[Example]) -> None:
        from sklearn.linear_model import LogisticRegression  # imported on first fit: ~0.4 s at start-up otherwise

        labels = [str(e.answer_id) if e.answer_id else NONE_OF_THEM for e in examples]
        self.classes = sorted(set(labels))
        self.examples = len(examples)
        self._single = self.classes[0] if len(self.classes) == 1 else None
        if len(self.classes) > 1:
            matrix = np.asarray([e.embedding for e in examples], dtype=np.float32)
            model = LogisticRegression(C=REGULARISATION_C, max_iter=2000)
            # One BLAS thread: with OpenBLAS's default (one per core) a 140-phrasing fit took 102 ms instead of
            # 16 ms here, its spinning threads taking the cores from the turns being served (bench/soak.py).
            with warnings.catch_warnings(), threadpool_limits(limits=1):
                warnings.simplefilter("ignore", UserWarning)  # "more classes than half the samples": normal at k=1
                model.fit(matrix, labels)
            self.classes = list(model.classes_)
            self._weights = model.coef_.astype(np.float32)
            self._bias = model.intercept_.astype(np.float32)
        self._index = {label: i for i, label in enumerate(self.classes)}
        self.discriminates = len(self.classes) >= MIN_CLASSES_TO_DISCRIMINATE

    def probability(self, embedding: Sequence[float], answer_id: uuid.UUID | str) -> tuple[float, bool]:
        """(probability of this answer, whether it is the most likely class)."""
        if not self.classes:
            return 0.0, False
        if self._single is not None:
            return (1.0, True) if self._single == str(answer_id) else (0.0, False)
        index = self._index.get(str(answer_id))
        if index is None:
            return 0.0, False
        probabilities = self._softmax(np.asarray(embedding, dtype=np.float32))
        return float(probabilities[index]), int(probabilities.argmax()) == index

    def _softmax(self, vector: np.ndarray) -> np.ndarray:
        scores = self._weights @ vector + self._bias
        if len(self.classes) == 2:  # sklearn keeps one row for two classes: the second class's log-odds
            scores = np.array([-scores[0], scores[0]]) / 2
        scores = np.exp(scores - scores.max())
        return scores / scores.sum()


@dataclass(frozen=True, slots=True)
class TrainingData:
    """An agent's variants (answer id, embedding) and negative pairs, as the store reads them."""

    answers: list[str]
    vectors: np.ndarray
    negative_answers: list[str]
    negative_vectors: np.ndarray


@dataclass(frozen=True, slots=True)
class AnswerModel:
    """An agent's classifier, how many phrasings it learned each answer from, and the negative pairs per answer."""

    version: int
    classifier: AnswerClassifier
    variant_counts: dict[str, int]
    negatives: dict[str, np.ndarray]


# A stale model that does not know the asked-about answers as they are now is retrained before the turn goes on
# when it is this small (tens of ms); a bigger one (0.3-1.8 s at 750 phrasings here) keeps serving while its
# successor trains in the background. With no model at all, turns wait.
SYNC_TRAIN_MAX_EXAMPLES = 200
# Retrains in the background are spaced so that each takes at most about this share of a core: a creator answering
# escalation after escalation (bench/soak.py: 1.2 a second, ~900 answers) otherwise kept every worker refitting.
BACKGROUND_DUTY = 0.2


class AnswerModels:
    """Per-process cache of each agent's answer model, retrained when the agent's reuse_version moves."""

    def __init__(self, load: Callable[[uuid.UUID], Awaitable[TrainingData]]) -> None:
        self._load = load
        self._models: dict[uuid.UUID, AnswerModel] = {}
        self._training: dict[uuid.UUID, asyncio.Task[AnswerModel]] = {}
        self._rested: dict[uuid.UUID, float] = {}  # agent -> when a background retrain may start again

    async def get(self, agent_id: uuid.UUID, version: int, *, changed: int | None = None) -> AnswerModel:
        """The agent's model, trained at `version` (the agent's reuse_version) or later if it must be.

        `changed` is the newest reuse_version at which one of the answers the turn asks about changed. A stale
        model trained since then judges those answers as they are, so it serves while its successor trains in the
        background: when a creator answers escalation after escalation, turns about the other answers do not wait
        for a retrain each time (bench/soak.py found p99 going from ~0.1 s to 2 s that way).
        """
        current = self._models.get(agent_id)
        if current is not None and current.version >= version:
            return current
        knows_them = changed is not None and current is not None and current.version >= changed
        serve_stale = current is not None and (knows_them or current.classifier.examples > SYNC_TRAIN_MAX_EXAMPLES)
        task = self._training.get(agent_id)
        if task is None and (not serve_stale or time.monotonic() >= self._rested.get(agent_id, 0.0)):
            task = asyncio.create_task(self._train(agent_id, version))
            self._training[agent_id] = task
            task.add_done_callback(lambda done: self._finished(agent_id, done))
        if serve_stale:
            return current  # type: ignore[return-value]
        return await asyncio.shield(task)  # type: ignore[arg-type]

    def _finished(self, agent_id: uuid.UUID, task: asyncio.Task[AnswerModel]) -> None:
        self._training.pop(agent_id, None)
        if not task.cancelled() and (error := task.exception()) is not None:  # the next turn tries again
            log.error("training the answer model of agent %s failed: %r", agent_id, error)

    async def _train(self, agent_id: uuid.UUID, version: int) -> AnswerModel:
        data = await self._load(agent_id)
        started = time.monotonic()
        model = await asyncio.to_thread(build_model, version, data)
        took = time.monotonic() - started
        self._rested[agent_id] = time.monotonic() + took * (1 / BACKGROUND_DUTY - 1)
        if (previous := self._models.get(agent_id)) is None or previous.version <= model.version:
            self._models[agent_id] = model
        return model


def build_model(version: int, data: TrainingData) -> AnswerModel:
    """Fit the classifier on an agent's phrasings and negative pairs."""
    examples = [Example(a, v) for a, v in zip(data.answers, data.vectors, strict=True)]
    examples += [Example(None, v) for v in data.negative_vectors]
    counts: dict[str, int] = {}
    for answer in data.answers:
        counts[answer] = counts.get(answer, 0) + 1
    negatives: dict[str, list[np.ndarray]] = {}
    for answer, vector in zip(data.negative_answers, data.negative_vectors, strict=True):
        negatives.setdefault(answer, []).append(vector)
    return AnswerModel(
        version=version,
        classifier=AnswerClassifier(examples),
        variant_counts=counts,
        negatives={answer: np.vstack(vectors) for answer, vectors in negatives.items()},
    )
