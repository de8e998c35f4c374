"""`orchestrator eval run`: one dataset through the real graph on a fresh store, reported."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from evals.dataset import load_dataset
from evals.replay import Clock, Replayer, isolated_services, seed_agent
from evals.report import write_run
from evals.scoring import summarise
from llm.embeddings import Embedder


async def run_eval(
    dataset_path: str | Path,
    out: str | Path,
    *,
    config_overrides: dict[str, Any] | None = None,
    model: str = "offline",
    embedder: Embedder | None = None,
    progress: bool = True,
) -> dict:
    """Replay the dataset and write report.json, report.md, errors.jsonl and the plots into `out`."""
    dataset = load_dataset(dataset_path)
    started = time.perf_counter()
    async with isolated_services(model, embedder) as services:
        seeded = await seed_agent(services, dataset, config_overrides or {})
        with tqdm(
            total=len(dataset.cases), desc=dataset.name, unit="case", disable=not progress, file=sys.stderr
        ) as bar:
            results = await Replayer(services, seeded, Clock()).play(dataset.cases, bar.update)
    meta = {
        "dataset": dataset.name,
        "dataset_path": str(dataset_path),
        "model": model,
        "config_overrides": config_overrides or {},
        "finished_at": datetime.now(UTC).isoformat(),
        "duration_s": round(time.perf_counter() - started, 1),
    }
    return write_run(Path(out), meta, summarise([*results]), results)


def summary_table(report: dict) -> str:
    """The terminal summary: headline numbers, then one row per path."""
    lines = [
        f"{report['dataset']}: {report['case_count']} cases in {report['duration_s']} s ({report['model']} model)",
        f"  path accuracy {report['accuracy']:.3f}   strict {report['strict_accuracy']:.3f}   "
        f"C precision {report['canonical']['precision']:.3f}   C recall {report['canonical']['recall']:.3f}   "
        f"errors {report['errors']}",
    ]
    if report.get("near_miss"):
        near = report["near_miss"]
        lines.append(
            f"  near-miss set: C precision {near['precision']:.3f} ({near['wrong']} wrong of {near['served']} served)"
        )
    lines.append(f"  {'path':<6}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}")
    for path, s in report["per_path"].items():
        lines.append(f"  {path:<6}{s['precision']:>10.3f}{s['recall']:>10.3f}{s['f1']:>10.3f}{s['support']:>10}")
    return "\n".join(lines)
