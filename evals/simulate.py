"""`orchestrator eval simulate`: the leverage loop over days of real questions (CLINC150).

Every day, users ask `questions_per_day` questions: in-scope intents recur with Zipf-like popularity, out-of-scope
ones are mixed in. Offers are accepted, the creator answers the day's queue (the quota caps it), linking a
question to the answer they already wrote for its intent (which teaches that answer the phrasing), and each answer
is keyed by its question's intent: serving it to a question of another intent (or to an out-of-scope one) counts
as a wrong answer. The claim to check: escalations fall day by day while wrong serves stay rare.
"""

from __future__ import annotations

import json
import random
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from tqdm import tqdm  # noqa: E402

from evals.clinc import load_clinc  # noqa: E402
from evals.dataset import AgentSpec, Case, Dataset, UserSpec  # noqa: E402
from evals.replay import Clock, Replayer, isolated_services, seed_agent  # noqa: E402
from evals.report import write_csv  # noqa: E402
from graphs import gates  # noqa: E402

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday: days and weeks line up with the quota windows


def draw_questions(days: int, per_day: int, intents: int, oos_share: float, seed: int) -> list[list[tuple[str, str]]]:
    """Per day, (question, intent or 'oos:<n>') pairs; phrasings are not repeated until an intent runs out."""
    by_intent, out_of_scope = load_clinc()
    rng = random.Random(seed)
    chosen = rng.sample(sorted(by_intent), intents)
    weights = [1 / (rank + 1) ** 0.8 for rank in range(intents)]
    pools = {intent: rng.sample(by_intent[intent], len(by_intent[intent])) for intent in chosen}
    oos_pool = rng.sample(out_of_scope, len(out_of_scope))
    schedule = []
    for _ in range(days):
        day = []
        for _ in range(per_day):
            if rng.random() < oos_share and oos_pool:
                day.append((oos_pool.pop(), f"oos:{len(oos_pool)}"))
            else:
                intent = rng.choices(chosen, weights)[0]
                pool = pools[intent] or rng.sample(by_intent[intent], len(by_intent[intent]))
                pools[intent] = pool
                day.append((pool.pop(), intent))
        schedule.append(day)
    return schedule


async def run_simulation(
    *,
    days: int,
    questions_per_day: int,
    intents: int,
    oos_share: float,
    quota: int,
    seed: int,
    out: str | Path,
    config_overrides: dict[str, Any] | None = None,
    progress: bool = True,
) -> dict:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    schedule = draw_questions(days, questions_per_day, intents, oos_share, seed)
    dataset = Dataset(
        name="clinc150-leverage-loop",
        agent=AgentSpec(
            handle="sim-creator-agent",
            name="Assistant",
            config={
                "max_escalations_per_day": quota,
                "max_escalations_per_week": quota * 7,
                **(config_overrides or {}),
            },
        ),
        users=[UserSpec(handle="audience", tier="paid")],
        cases=[Case(id="placeholder", user="audience", message="x", expected_path="A")],
    )
    rows = []
    async with isolated_services("offline") as services:
        seeded = await seed_agent(services, dataset, {})
        replayer = Replayer(services, seeded, Clock())
        answer_for_intent: dict[str, dict] = {}  # the creator's answer about each intent, once written
        with tqdm(
            total=days * questions_per_day, desc="simulate", unit="question", disable=not progress, file=sys.stderr
        ) as bar:
            for day, questions in enumerate(schedule):
                stats = {
                    "day": day + 1,
                    "questions": len(questions),
                    "escalations": 0,
                    "quota_refusals": 0,
                    "auto_answers": 0,
                    "canonical_serves": 0,
                    "wrong_serves": 0,
                    "clarify": 0,
                    "refused": 0,
                }
                answered_today: list[tuple[dict, str]] = []
                for index, (question, intent) in enumerate(questions):
                    case = Case(
                        id=f"d{day}-{index}",
                        user="audience",
                        message=question,
                        expected_path="A",
                        conversation=f"d{day}-{index}",
                        at=START + timedelta(days=day, seconds=index * 30),  # the simulated day and time
                    )
                    result = await replayer.play_case(case)
                    path = result.actual_path
                    if path == "A":
                        stats["auto_answers"] += 1
                    elif path == "B":
                        stats["clarify"] += 1
                    elif path == "C":
                        stats["canonical_serves"] += 1
                        # Each answer's key names the intent it was written for; an out-of-scope answer never fits.
                        if intent.startswith("oos:") or result.served_answer != f"answer:{intent}":
                            stats["wrong_serves"] += 1
                    elif path == "F":
                        stats["refused"] += 1
                    escalation_id = result.details.get("escalation_id")
                    if escalation_id and path in ("A", "D"):
                        escalation = await services.context.escalations.get(uuid.UUID(escalation_id))
                        await gates.accept_offer(services.runner, escalation)
                        escalation = await services.context.escalations.get(uuid.UUID(escalation_id))
                        if escalation["status"] == "pending":
                            stats["escalations"] += 1
                            answered_today.append((escalation, intent))
                        else:
                            stats["quota_refusals"] += 1
                    bar.update()
                # End of the day: the creator answers the queue. A question whose intent already has an answer is
                # linked to it (what the inbox suggests), which teaches that answer the phrasing; others get a new one.
                for escalation, intent in answered_today:
                    if (existing := answer_for_intent.get(intent)) is not None:
                        await gates.link_escalation(services.runner, escalation, existing)
                        continue
                    await gates.answer_escalation(
                        services.runner, escalation, f"[the creator's answer about {intent}]", "public"
                    )
                    answered = await services.context.escalations.get(escalation["id"])
                    seeded.canonical_keys[str(answered["canonical_answer_id"])] = f"answer:{intent}"
                    answer_for_intent[intent] = await services.context.canonical.get(answered["canonical_answer_id"])
                # Questions that needed the creator: sent to them, or refused because today's quota was spent.
                stats["creator_demand"] = stats["escalations"] + stats["quota_refusals"] + stats["refused"]
                stats["reuse_rate"] = round(stats["canonical_serves"] / stats["questions"], 4)
                stats["wrong_serve_rate"] = (
                    round(stats["wrong_serves"] / stats["canonical_serves"], 4) if stats["canonical_serves"] else 0.0
                )
                rows.append(stats)
    (out / "simulation.json").write_text(
        json.dumps(
            {
                "days": rows,
                "settings": {
                    "days": days,
                    "questions_per_day": questions_per_day,
                    "intents": intents,
                    "oos_share": oos_share,
                    "quota": quota,
                    "seed": seed,
                    "config_overrides": config_overrides or {},
                },
            },
            indent=2,
        )
        + "\n"
    )
    write_csv(rows, out / "simulation.csv")
    _plot(rows, out / "simulation.png")
    first, last = rows[0], rows[-1]
    summary = (
        f"day 1: {first['escalations']} escalations ({first['creator_demand']} needed the creator), "
        f"reuse {first['reuse_rate']:.2f}, wrong serves {first['wrong_serve_rate']:.3f}\n"
        f"day {last['day']}: {last['escalations']} escalations ({last['creator_demand']} needed the creator), "
        f"reuse {last['reuse_rate']:.2f}, wrong serves {last['wrong_serve_rate']:.3f}\n"
        f"total: {sum(r['canonical_serves'] for r in rows)} canonical serves, "
        f"{sum(r['wrong_serves'] for r in rows)} wrong\n"
        f"written: {out / 'simulation.json'}, simulation.csv, simulation.png"
    )
    return {"days": rows, "summary": summary}


def _plot(rows: list[dict], path: Path) -> None:
    days = [r["day"] for r in rows]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True)
    for key, label, color in (
        ("escalations", "escalations queued", "#d62728"),
        ("canonical_serves", "served from creator answers (C)", "#2ca02c"),
        ("auto_answers", "AI answers (A)", "#1f77b4"),
        ("creator_demand", "needed the creator (queued + refused for quota)", "#ff7f0e"),
    ):
        top.plot(days, [r[key] for r in rows], label=label, color=color, marker=".")
    top.set_ylabel("questions per day")
    top.legend(fontsize=8)
    top.grid(alpha=0.3)
    bottom.plot(days, [r["reuse_rate"] for r in rows], label="reuse rate", color="#2ca02c", marker=".")
    bottom.plot(days, [r["wrong_serve_rate"] for r in rows], label="wrong-serve rate", color="#8c564b", marker=".")
    bottom.set_ylim(-0.02, 1.02)
    bottom.set_xlabel("day")
    bottom.legend(fontsize=8)
    bottom.grid(alpha=0.3)
    fig.suptitle("Leverage loop on CLINC150: escalations fall as creator answers are reused")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
