"""`orchestrator eval ...`: run, sweep, compare, simulate."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import yaml

from evals.dataset import DatasetError


def add_eval_commands(commands: argparse._SubParsersAction) -> None:
    evaluate = commands.add_parser("eval", help="offline evals: replay labelled datasets through the real graph")
    sub = evaluate.add_subparsers(dest="eval_command", required=True)

    run = sub.add_parser("run", help="replay a dataset and report routing quality")
    run.add_argument("dataset")
    run.add_argument("--out", required=True, help="directory for report.json, report.md, errors.jsonl, plots")
    run.add_argument("--config", help="YAML file of agent config overrides")
    run.add_argument("--model", choices=("offline", "openai"), default="offline")

    sweep = sub.add_parser("sweep", help="run a dataset over a grid of one or two numeric config fields")
    sweep.add_argument("dataset")
    sweep.add_argument("--param", action="append", required=True, help="name=start:stop:step (once or twice)")
    sweep.add_argument("--out", required=True)
    sweep.add_argument("--config", help="YAML file of agent config overrides")
    sweep.add_argument("--model", choices=("offline", "openai"), default="offline")
    sweep.add_argument("--objective", choices=("c_recall", "accuracy", "c_f1"), default="c_recall")
    sweep.add_argument("--min-c-precision", type=float, default=0.98, help="constraint on path C precision")

    reuse = sub.add_parser("reuse", help="reuse recall and precision per k and threshold, cosine vs shipped")
    reuse.add_argument("--dataset", default="clinc150", choices=("clinc150",))
    reuse.add_argument("--known", type=int, default=75, help="intents with a stored answer")
    reuse.add_argument("--unknown", type=int, help="intents asked about without an answer (default: all others)")
    reuse.add_argument("--oos", type=int, help="out-of-scope test questions (default: all 1000)")
    reuse.add_argument("--k", default="1,3,10", help="stored phrasings per answer, comma-separated")
    reuse.add_argument("--seed", type=int, default=1)
    reuse.add_argument("--days", type=int, default=14, help="days of the feedback simulation")
    reuse.add_argument("--questions-per-day", type=int, default=300)
    reuse.add_argument("--feedback-share", type=float, default=0.5, help="share of served answers users rate")
    reuse.add_argument("--links-per-day", type=int, default=40, help="escalations the creator links per day")
    reuse.add_argument("--out", required=True)

    compare = sub.add_parser("compare", help="what changed from run A to run B; exit 1 when B is worse")
    compare.add_argument("run_a")
    compare.add_argument("run_b")
    compare.add_argument("--tolerance", type=float, default=0.02, help="allowed drop in any score")

    simulate = sub.add_parser("simulate", help="the leverage loop over days of real questions")
    simulate.add_argument("--dataset", default="clinc150", choices=("clinc150",))
    simulate.add_argument("--days", type=int, default=30)
    simulate.add_argument("--questions-per-day", type=int, default=200)
    simulate.add_argument("--intents", type=int, default=60, help="in-scope intents the audience asks about")
    simulate.add_argument("--oos-share", type=float, default=0.1, help="share of out-of-scope questions")
    simulate.add_argument("--quota", type=int, default=40, help="escalations the creator answers per day")
    simulate.add_argument("--seed", type=int, default=7)
    simulate.add_argument("--config", help="YAML file of agent config overrides")
    simulate.add_argument("--out", required=True)


def run_eval_command(args: argparse.Namespace) -> int:
    try:
        overrides = _overrides(getattr(args, "config", None))
        if args.eval_command == "run":
            from evals.run import run_eval, summary_table

            report = asyncio.run(run_eval(args.dataset, args.out, config_overrides=overrides, model=args.model))
            print(summary_table(report))
            print(f"written: {Path(args.out) / 'report.json'}, report.md, errors.jsonl, plots")
            return 0
        if args.eval_command == "sweep":
            from evals.sweep import run_sweep

            result = asyncio.run(
                run_sweep(
                    args.dataset,
                    args.param,
                    args.out,
                    config_overrides=overrides,
                    model=args.model,
                    objective=args.objective,
                    min_c_precision=args.min_c_precision,
                )
            )
            print(result["summary"])
            return 0
        if args.eval_command == "reuse":
            from evals.reuse import run_reuse_eval

            result = run_reuse_eval(
                known=args.known,
                ks=_ks(args.k),
                out=args.out,
                unknown=args.unknown,
                oos=args.oos,
                seed=args.seed,
                days=args.days,
                questions_per_day=args.questions_per_day,
                feedback_share=args.feedback_share,
                links_per_day=args.links_per_day,
            )
            print(result["summary"])
            return 0
        if args.eval_command == "compare":
            from evals.compare import compare_runs

            text, worse = compare_runs(args.run_a, args.run_b, tolerance=args.tolerance)
            print(text)
            return 1 if worse else 0
        if args.eval_command == "simulate":
            from evals.simulate import run_simulation

            result = asyncio.run(
                run_simulation(
                    days=args.days,
                    questions_per_day=args.questions_per_day,
                    intents=args.intents,
                    oos_share=args.oos_share,
                    quota=args.quota,
                    seed=args.seed,
                    out=args.out,
                    config_overrides=overrides,
                )
            )
            print(result["summary"])
            return 0
    except (DatasetError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 2


def _ks(text: str) -> list[int]:
    try:
        ks = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise ValueError(f"--k: comma-separated positive integers, not {text!r}") from None
    if not ks or ks[0] < 1:
        raise ValueError(f"--k: comma-separated positive integers, not {text!r}")
    return ks


def _overrides(path: str | None) -> dict:
    if not path:
        return {}
    data = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: config overrides are a mapping of config fields")
    return data
