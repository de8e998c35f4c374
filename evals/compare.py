"""`orchestrator eval compare RUN_A RUN_B`: what changed, per path and per case; worse beyond a tolerance fails."""

from __future__ import annotations

import json
from pathlib import Path


def load_report(run: str | Path) -> dict:
    path = Path(run)
    path = path / "report.json" if path.is_dir() else path
    if not path.exists():
        raise FileNotFoundError(f"{path}: no report.json (pass a run's --out directory or its report.json)")
    return json.loads(path.read_text())


def compare_runs(run_a: str | Path, run_b: str | Path, *, tolerance: float = 0.02) -> tuple[str, bool]:
    """(a printable comparison, whether B is worse than A by more than the tolerance anywhere)."""
    a, b = load_report(run_a), load_report(run_b)
    rows = [
        ("accuracy", a["accuracy"], b["accuracy"]),
        ("strict accuracy", a["strict_accuracy"], b["strict_accuracy"]),
        ("C precision", a["canonical"]["precision"], b["canonical"]["precision"]),
    ]
    if a.get("near_miss") and b.get("near_miss"):
        rows.append(("near-miss C precision", a["near_miss"]["precision"], b["near_miss"]["precision"]))
    for path in sorted(set(a["per_path"]) | set(b["per_path"])):
        rows.append(
            (f"F1 {path}", a["per_path"].get(path, {}).get("f1", 0.0), b["per_path"].get(path, {}).get("f1", 0.0))
        )
    worse = [(name, va, vb) for name, va, vb in rows if vb < va - tolerance]

    lines = [f"{'score':<24}{'A':>8}{'B':>8}{'change':>9}"]
    for name, va, vb in rows:
        flag = "  worse" if (name, va, vb) in worse else ""
        lines.append(f"{name:<24}{va:>8.3f}{vb:>8.3f}{vb - va:>+9.3f}{flag}")

    cases_a = {case["id"]: case for case in a["cases"]}
    flips = []
    for case in b["cases"]:
        before = cases_a.get(case["id"])
        if before and (before["actual_path"], before["correct"]) != (case["actual_path"], case["correct"]):
            flips.append((case, before))
    lines += ["", f"{len(flips)} case(s) changed decision or correctness:"]
    for case, before in flips:
        change = "fixed" if case["correct"] and not before["correct"] else "broke" if before["correct"] else "moved"
        lines.append(
            f"  {change:<6}{case['id']:<16} expected {case['expected_path']}: "
            f"{before['actual_path']} -> {case['actual_path']}   “{case['message'][:60]}”"
        )
    missing = sorted(set(cases_a) - {case["id"] for case in b["cases"]})
    if missing:
        lines.append(f"  cases only in A: {', '.join(missing)}")
    verdict = (
        f"B is worse than A beyond {tolerance}: {', '.join(name for name, _, _ in worse)}"
        if worse
        else f"B is not worse than A beyond {tolerance}"
    )
    lines += ["", verdict]
    return "\n".join(lines), bool(worse)
