"""The offline evals: a routing regression fails CI; reports, sweeps, comparisons and simulations work."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from evals.compare import compare_runs
from evals.dataset import DatasetError, load_dataset
from evals.run import run_eval
from evals.simulate import run_simulation
from evals.sweep import ParamRange, run_sweep

DATASETS = Path(__file__).resolve().parents[1] / "evals" / "datasets"

# Floors for the shipped datasets with the offline model: a change that routes worse fails here.
FLOORS = {
    "coachmia.yaml": {"accuracy": 0.93, "recall": {"A": 0.9, "B": 1.0, "C": 0.9, "D": 0.85, "F": 0.9}},
    "near_miss.yaml": {"accuracy": 0.95, "recall": {"C": 0.9, "D": 0.9}},
}


@pytest.mark.parametrize("name", sorted(FLOORS))
async def test_shipped_datasets_route_above_their_floors(name: str, tmp_path: Path) -> None:
    report = await run_eval(DATASETS / name, tmp_path, progress=False)
    floors = FLOORS[name]
    assert report["errors"] == 0
    assert report["accuracy"] >= floors["accuracy"], report["accuracy"]
    for path, floor in floors["recall"].items():
        assert report["per_path"][path]["recall"] >= floor, (path, report["per_path"][path])
    # Never a wrong creator answer: not on the near misses, not anywhere.
    assert report["canonical"]["precision"] == 1.0
    assert report["near_miss"]["precision"] == 1.0

    written = json.loads((tmp_path / "report.json").read_text())
    assert {"accuracy", "per_path", "confusion", "cases"} <= set(written)
    case = written["cases"][0]
    assert {"id", "expected_path", "actual_path", "signals", "latency_ms", "reason"} <= set(case)
    assert set(case["signals"]) == {"similarity", "novelty", "complexity", "confidence"}
    for artefact in ("report.md", "confusion_matrix.png", "signals_histogram.png"):
        assert (tmp_path / artefact).stat().st_size > 0
    wrong = [json.loads(line) for line in (tmp_path / "errors.jsonl").read_text().splitlines()]
    assert len(wrong) == sum(not c["correct"] for c in written["cases"])


def test_dataset_errors_say_what_and_where(tmp_path: Path) -> None:
    base = "name: x\nagent: {handle: a, name: A}\nusers: [{handle: ann, tier: free}]\ncases:\n"
    cases = {
        "unknown user": ("  - {id: q1, user: zed, message: hi, expected_path: A}\n", "case 'q1', line 5: user 'zed'"),
        "missing path": ("  - {id: q1, user: ann, message: hi}\n", "case 'q1', line 5: expected_path is missing"),
        "bad path": ("  - {id: q1, user: ann, message: hi, expected_path: Z}\n", "case 'q1', line 5: expected_path"),
        "bad yaml": ("  - {id: q1, user: ann, message: hi: there, expected_path: A\n", "not valid YAML at line 5"),
        "answer without accept": (
            "  - {id: q1, user: ann, message: hi, expected_path: D, creator_answer: ok}\n",
            "need `then: accept`",
        ),
    }
    for label, (case, expected) in cases.items():
        path = tmp_path / f"{label.replace(' ', '_')}.yaml"
        path.write_text(base + case)
        with pytest.raises(DatasetError) as error:
            load_dataset(path)
        assert expected in str(error.value), (label, str(error.value))


async def test_compare_gates_on_a_regression(tmp_path: Path) -> None:
    good = await run_eval(DATASETS / "near_miss.yaml", tmp_path / "good", progress=False)
    worse = await run_eval(
        DATASETS / "near_miss.yaml",
        tmp_path / "worse",
        progress=False,
        config_overrides={"canonical_similarity_threshold": 0.99},
    )
    assert worse["canonical"]["recall"] < good["canonical"]["recall"]
    text, is_worse = compare_runs(tmp_path / "good", tmp_path / "worse")
    assert is_worse and "worse" in text and "broke" in text
    _, improved = compare_runs(tmp_path / "worse", tmp_path / "good")
    assert not improved
    # The CLI's exit code is what CI gates on.
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "api.cli", "eval", "compare", str(tmp_path / "good"), str(tmp_path / "worse")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "B is worse than A" in result.stdout


async def test_sweep_names_the_best_threshold(tmp_path: Path) -> None:
    result = await run_sweep(
        DATASETS / "near_miss.yaml", ["canonical_similarity_threshold=0.80:1.00:0.10"], tmp_path, progress=False
    )
    thresholds = [row["canonical_similarity_threshold"] for row in result["rows"]]
    assert thresholds == [0.8, 0.9, 1.0]
    recalls = [row["c_recall"] for row in result["rows"]]
    assert recalls == sorted(recalls, reverse=True)  # a higher threshold never serves more
    assert result["best"]["c_precision"] >= 0.98
    assert result["best"]["c_recall"] == max(r["c_recall"] for r in result["rows"] if r["c_precision"] >= 0.98)
    assert (tmp_path / "sweep.csv").read_text().startswith("canonical_similarity_threshold,accuracy")
    assert (tmp_path / "sweep.png").stat().st_size > 0


def test_sweep_parameters_are_validated() -> None:
    assert ParamRange.parse("novelty_escalation_threshold=0.5:0.7:0.1").values == [0.5, 0.6, 0.7]
    assert ParamRange.parse("max_escalations_per_day=1:3:1").override(2.0) == {"max_escalations_per_day": 2}
    assert ParamRange.parse("confidence_escalation.review_threshold=0.5,0.6").override(0.5) == {
        "confidence_escalation": {"review_threshold": 0.5}
    }
    for bad in (
        "clarification_enabled=0:1:1",
        "nope=0:1:0.5",
        "canonical_similarity_threshold",
        "canonical_similarity_threshold=1:0:0.1",
    ):
        with pytest.raises(ValueError):
            ParamRange.parse(bad)


async def test_simulation_reuses_creator_answers_over_days(tmp_path: Path) -> None:
    result = await run_simulation(
        days=3, questions_per_day=40, intents=8, oos_share=0.1, quota=15, seed=3, out=tmp_path, progress=False
    )
    days = result["days"]
    assert len(days) == 3 and all(day["questions"] == 40 for day in days)
    assert all(day["escalations"] <= 15 for day in days)  # the creator's quota holds...
    assert days[0]["escalations"] == 15 and days[1]["escalations"] > 0  # ...per simulated day
    assert days[0]["canonical_serves"] <= days[-1]["canonical_serves"]  # answers compound
    assert days[-1]["escalations"] <= days[0]["escalations"]
    for artefact in ("simulation.json", "simulation.csv", "simulation.png"):
        assert (tmp_path / artefact).stat().st_size > 0
