"""What the confidence analysis of path A answers costs, and how to ask a real model for its self-assessment.

1. Offline model: the same path A turns with the analysis on and off (ENABLE_CONFIDENCE_ESCALATION), one run.
   A covered question (streamed live, checked afterwards) and a barely covered one (drafted unseen, checked,
   then shown or held back).
2. OpenAI-compatible stub generating at a fixed speed: the self-assessment inline (same call, a trailer) vs in a
   second call vs off, for the same turns: time to first token, to the final event, and requests per turn.

    .venv/bin/python -m bench.confidence [--turns 200] [--model-turns 30] [--token-ms 15] [--ttft-ms 0,300]
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx

from bench.harness import isolated_stores, percentiles, print_table, timed_turn, write_results
from graphs.config import ConfidenceEscalation
from nodes.confidence import analyse_answer
from tests.utils.api import KNOWN_QUESTION, Api, World
from tests.utils.openai_stub import STUB_ANSWER, STUB_TRAILER, OpenAIStub

BARELY = "How do I fix my squat form?"


async def run_turns(url: str, admin_key: str, world: World, questions: list[str], turns: int) -> dict[str, list]:
    marks: dict[str, list] = {q: [] for q in questions}
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        api = Api(client, admin_key)
        key = world.users["paid"]
        conversation = await api.conversation(world, "paid")
        for i in range(turns + 5):
            if i % 20 == 0:
                conversation = await api.conversation(world, "paid")
            for question in questions:
                turn = await timed_turn(api, conversation, key, question)
                if i >= 5:  # the first rounds warm up
                    marks[question].append(turn)
    return marks


async def make_world(url: str, admin_key: str) -> World:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        return await Api(client, admin_key).world()


def analysis_cost_us(repeats: int = 2000) -> dict[str, float]:
    """The analysis function alone, in-process."""
    config = ConfidenceEscalation()
    passages = ["Aim for 1.6 to 2.2 grams of protein per kilogram of bodyweight each day."] * 3
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        analyse_answer(
            question=KNOWN_QUESTION,
            answer=passages[0],
            passages=passages,
            retrieval_confidence=0.8,
            self_assessment=None,
            config=config,
        )
        samples.append((time.perf_counter() - start) * 1e6)
    stats = percentiles(samples)
    return {"p50_us": stats["p50"], "p99_us": stats["p99"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--model-turns", type=int, default=30)
    parser.add_argument("--token-ms", type=float, default=15.0, help="stub generation speed, ms per token")
    parser.add_argument("--ttft-ms", default="0,300", help="stub per-request delay before its first token, a run each")
    args = parser.parse_args()

    results: dict = {"analysis_function": analysis_cost_us()}
    with isolated_stores() as stores:
        on, off = stores.server("on"), stores.server("off", ENABLE_CONFIDENCE_ESCALATION="false")
        try:
            world = asyncio.run(make_world(on.url, stores.admin_key))
            for name, server in (("on", on), ("off", off)):
                marks = asyncio.run(
                    run_turns(server.url, stores.admin_key, world, [KNOWN_QUESTION, BARELY], args.turns)
                )
                results[f"covered_turn_done_ms[{name}]"] = percentiles([m["done"] for m in marks[KNOWN_QUESTION]])
                results[f"covered_first_token_ms[{name}]"] = percentiles(
                    [m["first_token"] for m in marks[KNOWN_QUESTION]]
                )
                results[f"barely_decision_ms[{name}]"] = percentiles([m["decision"] for m in marks[BARELY]])
                results[f"barely_turn_done_ms[{name}]"] = percentiles([m["done"] for m in marks[BARELY]])
        finally:
            on.stop()
            off.stop()

        for ttft in (float(v) for v in args.ttft_ms.split(",")):
            stub = OpenAIStub(token_delay_s=args.token_ms / 1000, first_token_delay_s=ttft / 1000).start()
            try:
                for mode in ("off", "inline", "second_call"):
                    # Only the inline mode asks for the trailer, so only it pays for the trailer's tokens.
                    stub.answer = STUB_ANSWER + (STUB_TRAILER if mode == "inline" else "")
                    server = stores.server(
                        f"model-{mode}",
                        OPENAI_API_KEY="sk-bench",
                        OPENAI_BASE_URL=stub.base_url,
                        OPENAI_MODEL="stub",
                        CONFIDENCE_SELF_ASSESSMENT=mode,
                    )
                    try:
                        before = len(stub.requests)
                        marks = asyncio.run(
                            run_turns(server.url, stores.admin_key, world, [KNOWN_QUESTION], args.model_turns)
                        )
                        made = len(stub.requests) - before
                    finally:
                        server.stop()
                    turns = marks[KNOWN_QUESTION]
                    label = f"{mode}, ttft {ttft:.0f}"
                    results[f"model_first_token_ms[{label}]"] = percentiles([m["first_token"] for m in turns])
                    results[f"model_final_event_ms[{label}]"] = percentiles([m["final"] for m in turns])
                    results[f"model_requests_per_turn[{label}]"] = round(made / (args.model_turns + 5), 2)
            finally:
                stub.stop()

    print(
        f"analysis function alone: p50 {results['analysis_function']['p50_us']} µs, "
        f"p99 {results['analysis_function']['p99_us']} µs"
    )
    print_table({k: v for k, v in results.items() if isinstance(v, dict) and "p50" in v})
    for key, value in results.items():
        if key.startswith("model_requests_per_turn"):
            print(f"{key:<40}{value:>6}")
    for label in ("covered_turn_done_ms", "barely_turn_done_ms"):
        on_p50, off_p50 = results[f"{label}[on]"]["p50"], results[f"{label}[off]"]["p50"]
        print(f"{label}: analysis adds {on_p50 - off_p50:+.2f} ms at p50 (ratio {on_p50 / off_p50:.2f})")
    write_results("confidence", results)


if __name__ == "__main__":
    main()
