"""`orchestrator eval reuse`: how often a creator's answer is reused when it should be, and never when it should not.

Protocol (CLINC150, Larson et al. 2019): `known` intents get an answer each, stored with its first k training
phrasings; the test questions are the test split of the known intents, of the other (unknown) intents and the
out-of-scope ones. Reuse recall = right answers served / known-intent questions; precision = right answers served /
answers served. Plain cosine (nearest stored phrasing >= threshold) is measured beside the shipped verification
(nodes/verify.py) on the same embeddings, and the near-miss dataset's traps are replayed through both.

The feedback simulation then lets days of other questions (train and validation splits, never the test split)
arrive: a share of users say truthfully whether a served answer answered them ("yes" adds their question as a
variant, "no" records a negative pair), and the creator links escalated questions of known intents to the answer
that already exists (up to `links_per_day`). After every day the test split is measured again.

The search here is numpy over the same vectors the Postgres scan reads; everything after it is the code that
serves in production: the guard, the negatives check, the answer classifier and the thresholds.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from tqdm import tqdm

from evals.clinc import clinc_path
from evals.dataset import load_dataset
from llm.answer_classifier import AnswerModel, TrainingData, build_model
from nodes.verify import Candidate, first_verified
from stores.variants import normalize_question

THRESHOLDS = (0.70, 0.75, 0.80, 0.85, 0.90)
DEFAULT_THRESHOLD = 0.85
CACHE_DIR = Path(os.environ.get("ORCH_DATA_DIR", ".data")) / "eval-cache"
NEAR_MISS = Path(__file__).parent / "datasets" / "near_miss.yaml"


@lru_cache(maxsize=1)
def clinc_splits() -> dict[str, list[tuple[str, str]]]:
    return {
        split: [(text, intent) for text, intent in rows] for split, rows in json.loads(clinc_path().read_text()).items()
    }


@dataclass
class AnswerIndex:
    """A creator's answers in memory: phrasings (variants) with embeddings, and negative pairs per answer."""

    phrasings: list[str] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    vectors: list[np.ndarray] = field(default_factory=list)
    negatives: dict[str, list[np.ndarray]] = field(default_factory=lambda: defaultdict(list))
    _seen: set[tuple[str, str]] = field(default_factory=set)
    _matrix: np.ndarray | None = None
    model: AnswerModel | None = None

    def add_variant(self, answer: str, phrasing: str, vector: np.ndarray) -> bool:
        key = (answer, normalize_question(phrasing))
        if key in self._seen:
            return False
        self._seen.add(key)
        self.phrasings.append(phrasing)
        self.answers.append(answer)
        self.vectors.append(vector)  # searched from the next train(), as production refreshes its model
        return True

    def add_negative(self, answer: str, vector: np.ndarray) -> None:
        self.negatives[answer].append(vector)

    def train(self) -> None:
        """Fit the model exactly as production does (llm/answer_classifier.build_model)."""
        self._matrix = np.vstack(self.vectors)
        negative_answers = [a for a, vectors in self.negatives.items() for _ in vectors]
        negative_vectors = [v for vectors in self.negatives.values() for v in vectors]
        data = TrainingData(
            self.answers,
            self._matrix,
            negative_answers,
            np.vstack(negative_vectors) if negative_vectors else np.zeros((0, 0), dtype=np.float32),
        )
        self.model = build_model(0, data)

    def nearest(self, vector: np.ndarray, answers: int = 3) -> list[Candidate]:
        """The nearest phrasing of each of the `answers` nearest answers (what the SQL scan returns)."""
        assert self._matrix is not None, "train() first"
        similarities = self._matrix @ vector
        candidates: dict[str, Candidate] = {}
        for i in np.argsort(-similarities)[: answers * 12]:
            answer = self.answers[i]
            if answer not in candidates:
                count = self.model.variant_counts[answer]  # type: ignore[union-attr]
                candidates[answer] = Candidate(answer, self.phrasings[i], float(similarities[i]), count)
                if len(candidates) == answers:
                    break
        return list(candidates.values())

    def serve_cosine(self, vector: np.ndarray, threshold: float) -> str | None:
        best = self.nearest(vector, 1)[0]
        return best.answer_id if best.similarity >= threshold else None

    def serve_verified(self, text: str, vector: np.ndarray, threshold: float) -> str | None:
        assert self.model is not None
        # Negatives count from the moment they are given, as a small agent's retrain before the next turn does.
        served, _ = first_verified(text, vector, self.nearest(vector), self.model.classifier, self.negatives, threshold)
        return served[0].answer_id if served else None


def embed_all(texts: list[str], progress: bool) -> dict[str, np.ndarray]:
    """Every distinct text once, in batches, with the service's own local model (cached under .data/eval-cache)."""
    unique = sorted(set(texts))
    cache = CACHE_DIR / f"minilm-{hashlib.sha256(chr(0).join(unique).encode()).hexdigest()[:16]}.npy"
    if cache.exists():
        return dict(zip(unique, np.load(cache), strict=True))
    from llm.embeddings import LocalEmbedder

    embedder = LocalEmbedder(coalesce_ms=0)
    vectors: dict[str, np.ndarray] = {}
    with tqdm(total=len(unique), desc="embedding", unit="text", disable=not progress, file=sys.stderr) as bar:
        for start in range(0, len(unique), 256):
            batch = unique[start : start + 256]
            for text, vector in zip(batch, embedder._encode(batch), strict=True):
                vectors[text] = np.asarray(vector, dtype=np.float32)
            bar.update(len(batch))
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, np.vstack([vectors[text] for text in unique]))
    return vectors


@dataclass
class Split:
    known: list[str]
    unknown: list[str]
    stored: dict[str, list[str]]  # intent -> training phrasings in order
    test: list[tuple[str, str | None]]  # (question, known intent or None)
    later: list[tuple[str, str | None]]  # questions for the feedback simulation (train beyond k, val)


def make_split(known_count: int, unknown_count: int | None, oos_count: int | None, seed: int) -> Split:
    splits = clinc_splits()
    intents = sorted({intent for _, intent in splits["train"]})
    if not 1 <= known_count < len(intents):
        raise ValueError(f"--known must be between 1 and {len(intents) - 1}")
    rng = random.Random(seed)
    shuffled = rng.sample(intents, len(intents))
    known = sorted(shuffled[:known_count])
    unknown = sorted(shuffled[known_count:][: unknown_count if unknown_count is not None else None])
    known_set, unknown_set = set(known), set(unknown)
    stored: dict[str, list[str]] = defaultdict(list)
    for text, intent in splits["train"]:
        if intent in known_set:
            stored[intent].append(text)
    asked = known_set | unknown_set
    oos_test = [text for text, _ in splits["oos_test"]][: oos_count if oos_count is not None else None]
    test = [(t, i if i in known_set else None) for t, i in splits["test"] if i in asked] + [(t, None) for t in oos_test]
    later = [(t, i if i in known_set else None) for t, i in splits["train"] + splits["val"] if i in asked]
    later += [(t, None) for split in ("oos_train", "oos_val") for t, _ in splits[split]]
    return Split(known, unknown, dict(stored), test, later)


def score(served: list[str | None], test: list[tuple[str, str | None]]) -> dict:
    known = sum(1 for _, intent in test if intent)
    right = sum(1 for s, (_, intent) in zip(served, test, strict=True) if s and s == intent)
    total = sum(1 for s in served if s)
    return {
        "recall": round(right / known, 4) if known else 0.0,
        "precision": round(right / total, 4) if total else 1.0,
        "served": total,
        "wrong": total - right,
    }


def build_index(split: Split, k: int, vectors: dict[str, np.ndarray]) -> AnswerIndex:
    index = AnswerIndex()
    for intent in split.known:
        for phrasing in split.stored[intent][:k]:
            index.add_variant(intent, phrasing, vectors[phrasing])
    index.train()
    return index


def near_miss_check(progress: bool) -> list[dict]:
    """Wrong serves on the near-miss dataset (traps and paraphrases) for each method and threshold."""
    dataset = load_dataset(NEAR_MISS)
    keyed = [a for a in dataset.canonical_answers if a.key]
    vectors = embed_all([a.question for a in keyed] + [c.message for c in dataset.cases], progress=False)
    index = AnswerIndex()
    for answer in keyed:
        index.add_variant(answer.key, answer.question, vectors[answer.question])
    index.train()
    rows = []
    for threshold in THRESHOLDS:
        for method in ("cosine", "verified"):
            wrong = right = 0
            for case in dataset.cases:
                vector = vectors[case.message]
                served = (
                    index.serve_cosine(vector, threshold)
                    if method == "cosine"
                    else index.serve_verified(case.message, vector, threshold)
                )
                expected = case.expected_answer if case.expected_path == "C" else None
                right += bool(served and served == expected)
                wrong += bool(served and served != expected)
            rows.append({"method": method, "threshold": threshold, "wrong": wrong, "right": right})
    return rows


def simulate_feedback(
    split: Split,
    k: int,
    vectors: dict[str, np.ndarray],
    *,
    days: int,
    questions_per_day: int,
    feedback_share: float,
    links_per_day: int,
    seed: int,
    progress: bool,
) -> list[dict]:
    """Days of questions with truthful feedback and creator links; the test split measured after each day."""
    rng = random.Random(seed + 1)
    stored = {(intent, phrasing) for intent, phrasings in split.stored.items() for phrasing in phrasings[:k]}
    pool = [(text, intent) for text, intent in split.later if (intent, text) not in stored]
    rng.shuffle(pool)
    index = build_index(split, k, vectors)
    rows = [_day_row(0, index, split, vectors, {"yes": 0, "no": 0, "linked": 0})]
    for day in tqdm(range(1, days + 1), desc="feedback days", disable=not progress, file=sys.stderr):
        learned = {"yes": 0, "no": 0, "linked": 0}
        today, pool = pool[:questions_per_day], pool[questions_per_day:]
        escalated = []
        for text, intent in today:
            served = index.serve_verified(text, vectors[text], DEFAULT_THRESHOLD)
            if served is None:
                if intent is not None:
                    escalated.append((text, intent))
                continue
            if rng.random() >= feedback_share:
                continue
            if served == intent:
                learned["yes"] += index.add_variant(served, text, vectors[text])
            else:
                index.add_negative(served, vectors[text])
                learned["no"] += 1
        for text, intent in escalated[:links_per_day]:  # the creator links what their inbox suggests
            learned["linked"] += index.add_variant(intent, text, vectors[text])
        index.train()
        rows.append(_day_row(day, index, split, vectors, learned))
    return rows


def _day_row(day: int, index: AnswerIndex, split: Split, vectors: dict[str, np.ndarray], learned: dict) -> dict:
    served = [index.serve_verified(t, vectors[t], DEFAULT_THRESHOLD) for t, _ in split.test]
    cosine = [index.serve_cosine(vectors[t], DEFAULT_THRESHOLD) for t, _ in split.test]
    verified, plain = score(served, split.test), score(cosine, split.test)
    return {
        "day": day,
        "variants": len(index.phrasings),
        "negatives": sum(len(v) for v in index.negatives.values()),
        **{f"learned_{key}": value for key, value in learned.items()},
        **verified,
        "cosine_recall": plain["recall"],
        "cosine_precision": plain["precision"],
    }


def run_reuse_eval(
    *,
    known: int,
    ks: list[int],
    out: str | Path,
    unknown: int | None = None,
    oos: int | None = None,
    seed: int = 1,
    days: int = 14,
    questions_per_day: int = 300,
    feedback_share: float = 0.5,
    links_per_day: int = 40,
    feedback_k: int | None = None,
    progress: bool = True,
) -> dict:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    split = make_split(known, unknown, oos, seed)
    texts = [t for t, _ in split.test] + [t for t, _ in split.later]
    texts += [p for intent in split.known for p in split.stored[intent][: max(ks)]]
    vectors = embed_all(texts, progress)
    rows = []
    for k in tqdm(ks, desc="k", disable=not progress, file=sys.stderr):
        index = build_index(split, k, vectors)
        for threshold in THRESHOLDS:
            cosine = [index.serve_cosine(vectors[t], threshold) for t, _ in split.test]
            verified = [index.serve_verified(t, vectors[t], threshold) for t, _ in split.test]
            rows.append({"k": k, "threshold": threshold, "method": "cosine", **score(cosine, split.test)})
            rows.append({"k": k, "threshold": threshold, "method": "verified", **score(verified, split.test)})
    near_miss = near_miss_check(progress)
    feedback = simulate_feedback(
        split,
        feedback_k or max(ks),
        vectors,
        days=days,
        questions_per_day=questions_per_day,
        feedback_share=feedback_share,
        links_per_day=links_per_day,
        seed=seed,
        progress=progress,
    )
    report = {
        "protocol": {
            "dataset": "clinc150",
            "known_intents": len(split.known),
            "unknown_intents": len(split.unknown),
            "test_questions": len(split.test),
            "known_questions": sum(1 for _, i in split.test if i),
            "seed": seed,
            "ks": ks,
            "default_threshold": DEFAULT_THRESHOLD,
        },
        "rows": rows,
        "near_miss": near_miss,
        "feedback": {
            "k": feedback_k or max(ks),
            "days": days,
            "questions_per_day": questions_per_day,
            "feedback_share": feedback_share,
            "links_per_day": links_per_day,
            "by_day": feedback,
        },
    }
    (out / "report.json").write_text(json.dumps(report, indent=2))
    text = summary_table(report)
    (out / "report.md").write_text(text + "\n")
    from evals.reuse_plots import plot_feedback, plot_tradeoff

    plot_tradeoff(rows, ks, out / "reuse.png")
    plot_feedback(feedback, out / "feedback.png")
    return {"report": report, "summary": text + f"\nwritten: {out / 'report.json'}, report.md, reuse.png, feedback.png"}


def summary_table(report: dict) -> str:
    lines = [
        "| k | threshold | cosine recall | cosine precision (wrong) | verified recall | verified precision (wrong) |",
        "|---|---|---|---|---|---|",
    ]
    rows = report["rows"]
    for k in report["protocol"]["ks"]:
        for threshold in THRESHOLDS:
            c, v = (
                next(r for r in rows if r["k"] == k and r["threshold"] == threshold and r["method"] == m)
                for m in ("cosine", "verified")
            )
            lines.append(
                f"| {k} | {threshold:.2f} | {c['recall']:.3f} | {c['precision']:.3f} ({c['wrong']}) "
                f"| {v['recall']:.3f} | {v['precision']:.3f} ({v['wrong']}) |"
            )
    near = {(r["method"], r["threshold"]): r for r in report["near_miss"]}
    lines.append("")
    lines.append(
        "near-miss set, wrong serves at 0.70/0.75/0.80/0.85/0.90: cosine "
        + "/".join(str(near[("cosine", t)]["wrong"]) for t in THRESHOLDS)
        + ", verified "
        + "/".join(str(near[("verified", t)]["wrong"]) for t in THRESHOLDS)
    )
    days = report["feedback"]["by_day"]
    first, last = days[0], days[-1]
    lines.append(
        f"feedback simulation (k={report['feedback']['k']}, {report['feedback']['days']} days x "
        f"{report['feedback']['questions_per_day']} questions, {report['feedback']['feedback_share']:.0%} give "
        f"feedback, {report['feedback']['links_per_day']} links/day): recall {first['recall']:.3f} -> "
        f"{last['recall']:.3f}, precision {first['precision']:.3f} -> {last['precision']:.3f} "
        f"({last['wrong']} wrong), variants {first['variants']} -> {last['variants']}, "
        f"negatives {last['negatives']}"
    )
    return "\n".join(lines)
