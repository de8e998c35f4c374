"""Routing quality from replayed cases: accuracy, per-path precision/recall/F1, confusion, near-miss safety."""

from __future__ import annotations

import statistics
from collections import Counter

from evals.replay import CaseResult

PATHS = ("A", "B", "C", "D", "E", "F")


def per_path(results: list[CaseResult]) -> dict[str, dict[str, float]]:
    expected = Counter(r.expected_path for r in results)
    actual = Counter(r.actual_path for r in results)
    hits = Counter(r.expected_path for r in results if r.path_correct)
    scores = {}
    for path in sorted(set(expected) | set(actual)):
        precision = hits[path] / actual[path] if actual[path] else 0.0
        recall = hits[path] / expected[path] if expected[path] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[path] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": expected[path],
        }
    return scores


def confusion(results: list[CaseResult]) -> dict[str, dict[str, int]]:
    matrix: dict[str, dict[str, int]] = {}
    for r in results:
        row = matrix.setdefault(r.expected_path, {})
        row[r.actual_path] = row.get(r.actual_path, 0) + 1
    return matrix


def c_safety(results: list[CaseResult]) -> dict[str, float | int]:
    """Of the answers served by path C, how many were right (right path and, when stated, the right answer)."""
    served = [r for r in results if r.actual_path == "C"]
    right = [r for r in served if r.expected_path == "C" and r.expected_answer in (None, r.served_answer)]
    deserved = [r for r in results if r.expected_path == "C"]
    return {
        "served": len(served),
        "correct": len(right),
        "wrong": len(served) - len(right),
        "precision": round(len(right) / len(served), 4) if served else 1.0,
        "recall": round(len(right) / len(deserved), 4) if deserved else 0.0,
    }


def summarise(results: list[CaseResult]) -> dict:
    """The report's headline numbers."""
    latencies = sorted(r.latency_ms for r in results if r.error is None) or [0.0]
    followups = [r for r in results if r.expected_followup]
    near_miss = [r for r in results if r.near_miss]
    return {
        "cases": len(results),
        "accuracy": round(sum(r.path_correct for r in results) / len(results), 4),
        "strict_accuracy": round(sum(r.correct for r in results) / len(results), 4),
        "per_path": per_path(results),
        "confusion": confusion(results),
        "canonical": c_safety(results),
        "near_miss": c_safety(near_miss) | {"cases": len(near_miss)} if near_miss else None,
        "followups": {
            "cases": len(followups),
            "correct": sum(r.followup_path == r.expected_followup for r in followups),
        },
        "errors": sum(r.error is not None for r in results),
        "latency_ms": {
            "p50": round(statistics.median(latencies), 2),
            "p99": round(latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 2),
        },
    }
