"""Writing an eval run: report.json (the contract), report.md, errors.jsonl and the plots."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

from evals.replay import CaseResult  # noqa: E402
from evals.scoring import PATHS  # noqa: E402


def write_run(out: Path, meta: dict, summary: dict, results: list[CaseResult]) -> dict:
    """Everything a run leaves behind; returns the report."""
    out.mkdir(parents=True, exist_ok=True)
    report = meta | summary | {"cases": [case_json(r) for r in results], "case_count": len(results)}
    (out / "report.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    with (out / "errors.jsonl").open("w") as errors:
        for result in results:
            if not result.correct:
                errors.write(json.dumps(case_json(result), default=str) + "\n")
    (out / "report.md").write_text(markdown(meta, summary, results))
    plot_confusion(summary["confusion"], out / "confusion_matrix.png")
    plot_signal_histograms(results, out / "signals_histogram.png")
    return report


def write_csv(rows: list[dict], path: Path) -> None:
    """Rows of one shape as a CSV with a header (sweeps, simulations)."""
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def case_json(result: CaseResult) -> dict:
    return result.as_json()


def markdown(meta: dict, summary: dict, results: list[CaseResult]) -> str:
    lines = [
        f"# Eval: {meta['dataset']}",
        "",
        f"{summary['cases']} cases, model `{meta['model']}`, {meta['duration_s']} s. "
        f"Config overrides: `{json.dumps(meta.get('config_overrides') or {})}`.",
        "",
        "| metric | value |",
        "|---|---|",
        f"| path accuracy | {summary['accuracy']:.3f} |",
        f"| strict accuracy (reason, follow-up, served answer too) | {summary['strict_accuracy']:.3f} |",
        f"| path C precision / recall | {summary['canonical']['precision']:.3f} / {summary['canonical']['recall']:.3f} |",
        f"| wrong canonical answers served | {summary['canonical']['wrong']} |",
    ]
    if summary["near_miss"]:
        near = summary["near_miss"]
        lines.append(f"| near-miss set: C precision ({near['cases']} cases) | {near['precision']:.3f} |")
    lines += [
        f"| follow-ups right | {summary['followups']['correct']} / {summary['followups']['cases']} |",
        f"| turn latency p50 / p99 | {summary['latency_ms']['p50']} / {summary['latency_ms']['p99']} ms |",
        f"| cases that errored | {summary['errors']} |",
        "",
        "## Per path",
        "",
        "| path | precision | recall | F1 | support |",
        "|---|---|---|---|---|",
    ]
    for path, s in summary["per_path"].items():
        lines.append(f"| {path} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {s['support']} |")
    lines += ["", "![confusion](confusion_matrix.png)", "", "## Confused pairs", ""]
    pairs = Counter((r.expected_path, r.actual_path) for r in results if not r.path_correct)
    if not pairs:
        lines.append("None: every case took its expected path.")
    for (expected, actual), count in pairs.most_common():
        lines.append(f"### expected {expected}, got {actual} ({count})")
        for r in [r for r in results if (r.expected_path, r.actual_path) == (expected, actual)][:3]:
            sig = ", ".join(f"{k} {v:.2f}" for k, v in r.signals.items())
            lines.append(f"- `{r.id}` ({r.user}): “{r.message}” — reason `{r.reason}`; {sig}")
        lines.append("")
    other = [r for r in results if r.path_correct and not r.correct]
    if other:
        lines += ["## Right path, other expectation missed", ""]
        for r in other:
            lines.append(
                f"- `{r.id}`: reason `{r.reason}` (expected `{r.expected_reason}`), follow-up `{r.followup_path}` "
                f"(expected `{r.expected_followup}`), served `{r.served_answer}` (expected `{r.expected_answer}`)"
            )
    lines += ["", "![signals](signals_histogram.png)", ""]
    return "\n".join(lines) + "\n"


def plot_confusion(matrix: dict[str, dict[str, int]], path: Path) -> None:
    labels = [p for p in PATHS if p in matrix or any(p in row for row in matrix.values())]
    extra = sorted({a for row in matrix.values() for a in row} - set(labels))
    labels += extra
    grid = [[matrix.get(e, {}).get(a, 0) for a in labels] for e in labels]
    fig, ax = plt.subplots(figsize=(5.5, 4.8))
    image = ax.imshow(grid, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("actual path")
    ax.set_ylabel("expected path")
    ax.set_title("Routing confusion")
    peak = max((max(row) for row in grid), default=0)
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            if value:
                ax.text(j, i, value, ha="center", va="center", color="white" if value > peak / 2 else "black")
    fig.colorbar(image, ax=ax, shrink=0.8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_signal_histograms(results: list[CaseResult], path: Path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, signal in zip(axes, ("similarity", "confidence"), strict=True):
        right = [r.signals[signal] for r in results if r.path_correct and signal in r.signals]
        wrong = [r.signals[signal] for r in results if not r.path_correct and signal in r.signals]
        bins = [i / 20 for i in range(21)]
        ax.hist(right, bins=bins, alpha=0.7, label=f"correct ({len(right)})", color="#3a7d44")
        ax.hist(wrong, bins=bins, alpha=0.7, label=f"wrong ({len(wrong)})", color="#c0392b")
        ax.set_xlabel(signal)
        ax.set_ylabel("cases")
        ax.legend()
    fig.suptitle("Signals of correct vs wrong decisions")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
