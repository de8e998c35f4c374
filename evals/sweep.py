"""`orchestrator eval sweep`: the dataset over a grid of one or two numeric config fields, and the best value.

The grid shares one fresh store; each point gets its own agent (and users), so points cannot see each other.
"""

from __future__ import annotations

import itertools
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from tqdm import tqdm  # noqa: E402

from evals.dataset import load_dataset  # noqa: E402
from evals.replay import Clock, Replayer, isolated_services, merge_config, seed_agent  # noqa: E402
from evals.report import write_csv  # noqa: E402
from evals.scoring import summarise  # noqa: E402
from graphs.config import AgentConfig  # noqa: E402


@dataclass(frozen=True)
class ParamRange:
    name: str
    values: list[float]

    @classmethod
    def parse(cls, text: str) -> ParamRange:
        """`name=start:stop:step` (stop included) or `name=v1,v2,...`; the field must be numeric."""
        name, _, spec = text.partition("=")
        if not spec:
            raise ValueError(
                f"--param {text!r}: use name=start:stop:step, e.g. canonical_similarity_threshold=0.7:0.95:0.01"
            )
        _check_numeric_field(name)
        if ":" in spec:
            try:
                start, stop, step = (float(part) for part in spec.split(":"))
            except ValueError as exc:
                raise ValueError(f"--param {text!r}: start:stop:step must be numbers") from exc
            if step <= 0 or stop < start:
                raise ValueError(f"--param {text!r}: need start <= stop and step > 0")
            count = int(round((stop - start) / step)) + 1
            values = [round(start + i * step, 6) for i in range(count)]
        else:
            values = [float(v) for v in spec.split(",")]
        return cls(name, values)

    def override(self, value: float) -> dict[str, Any]:
        """The config change for one value; dotted names reach into sections (confidence_escalation.x)."""
        *sections, leaf = self.name.split(".")
        change: dict[str, Any] = {leaf: int(value) if _is_int_field(self.name) else value}
        for section in reversed(sections):
            change = {section: change}
        return change


def _field_default(name: str) -> Any:
    value: Any = AgentConfig().model_dump()
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            raise ValueError(f"--param: {name!r} is not a config field")
        value = value[part]
    return value


def _check_numeric_field(name: str) -> None:
    default = _field_default(name)
    if isinstance(default, bool) or not isinstance(default, int | float):
        raise ValueError(f"--param: {name!r} is not a numeric config field")


def _is_int_field(name: str) -> bool:
    return isinstance(_field_default(name), int)


async def run_sweep(
    dataset_path: str | Path,
    params: list[str],
    out: str | Path,
    *,
    config_overrides: dict[str, Any] | None = None,
    model: str = "offline",
    objective: str = "c_recall",
    min_c_precision: float = 0.98,
    progress: bool = True,
) -> dict:
    """Run every grid point; write sweep.csv and sweep.png; name the point that maximises the objective."""
    ranges = [ParamRange.parse(p) for p in params]
    if not 1 <= len(ranges) <= 2:
        raise ValueError("sweep one or two parameters at once")
    dataset = load_dataset(dataset_path)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    grid = list(itertools.product(*(r.values for r in ranges)))
    rows = []
    async with isolated_services(model) as services:
        with tqdm(
            total=len(grid) * len(dataset.cases), desc="sweep", unit="case", disable=not progress, file=sys.stderr
        ) as bar:
            for index, point in enumerate(grid):
                change: dict[str, Any] = dict(config_overrides or {})
                for param, value in zip(ranges, point, strict=True):
                    change = merge_config(change, param.override(value))
                seeded = await seed_agent(services, dataset, change, suffix=f"-s{index}")
                results = await Replayer(services, seeded, Clock()).play(dataset.cases, bar.update)
                summary = summarise(results)
                rows.append(
                    {r.name: v for r, v in zip(ranges, point, strict=True)}
                    | {
                        "accuracy": summary["accuracy"],
                        "c_precision": summary["canonical"]["precision"],
                        "c_recall": summary["canonical"]["recall"],
                        "c_f1": _f1(summary["canonical"]["precision"], summary["canonical"]["recall"]),
                        "c_wrong": summary["canonical"]["wrong"],
                        "escalation_rate": round(sum(r.actual_path == "D" for r in results) / len(results), 4),
                    }
                )
    best = _best(rows, objective, min_c_precision)
    write_csv(rows, out / "sweep.csv")
    _plot(rows, ranges, best, out / "sweep.png")
    names = [r.name for r in ranges]
    if best is None:
        verdict = f"no grid point reaches C precision >= {min_c_precision}"
    else:
        where = ", ".join(f"{n}={best[n]}" for n in names)
        verdict = (
            f"best: {where} — {objective} {best[objective]:.3f} with C precision {best['c_precision']:.3f}, "
            f"C recall {best['c_recall']:.3f}, escalation rate {best['escalation_rate']:.3f}, "
            f"accuracy {best['accuracy']:.3f}"
        )
    summary_text = (
        f"{len(grid)} grid points x {len(dataset.cases)} cases; objective: max {objective} "
        f"subject to C precision >= {min_c_precision}\n{verdict}\nwritten: {out / 'sweep.csv'}, {out / 'sweep.png'}"
    )
    return {"rows": rows, "best": best, "summary": summary_text, "objective": objective}


def _f1(precision: float, recall: float) -> float:
    return round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0


def _best(rows: list[dict], objective: str, min_c_precision: float) -> dict | None:
    feasible = [row for row in rows if row["c_precision"] >= min_c_precision]
    # Ties go to the higher precision, then to the first (lowest) grid point.
    return max(feasible, key=lambda row: (row[objective], row["c_precision"]), default=None)


def _plot(rows: list[dict], ranges: list[ParamRange], best: dict | None, path: Path) -> None:
    if len(ranges) == 1:
        name = ranges[0].name
        xs = [row[name] for row in rows]
        fig, ax = plt.subplots(figsize=(8, 4.5))
        for key, label, color in (
            ("c_precision", "path C precision", "#1f77b4"),
            ("c_recall", "path C recall", "#2ca02c"),
            ("escalation_rate", "escalation rate", "#d62728"),
            ("accuracy", "accuracy", "#7f7f7f"),
        ):
            ax.plot(xs, [row[key] for row in rows], label=label, color=color, marker=".")
        if best is not None:
            ax.axvline(best[name], color="black", linestyle="--", linewidth=1, label=f"best {name}={best[name]}")
        ax.set_xlabel(name)
        ax.set_ylim(-0.02, 1.02)
        ax.legend(loc="best", fontsize=8)
        ax.grid(alpha=0.3)
    else:
        first, second = ranges
        fig, ax = plt.subplots(figsize=(7, 5.5))
        grid = [
            [next(r["accuracy"] for r in rows if r[first.name] == x and r[second.name] == y) for x in first.values]
            for y in second.values
        ]
        image = ax.imshow(
            grid,
            origin="lower",
            aspect="auto",
            cmap="viridis",
            extent=(first.values[0], first.values[-1], second.values[0], second.values[-1]),
        )
        fig.colorbar(image, ax=ax, label="accuracy")
        if best is not None:
            ax.plot(best[first.name], best[second.name], "r*", markersize=14, label="best")
            ax.legend()
        ax.set_xlabel(first.name)
        ax.set_ylabel(second.name)
    ax.set_title("Threshold sweep")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
