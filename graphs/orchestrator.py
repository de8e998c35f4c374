"""The orchestration graph: one thread per question, from the user's message to the creator's answer.

load_context -> compute_signals -> check_rules -> decide_path
    A auto_answer | B clarify | C serve_canonical | F refuse          -> log_decision -> END
    D offer_escalation -> log_decision -> await_offer_reply
          accept  -> queue_for_creator -> E log_decision -> await_creator -> deliver_creator_reply -> END
                                        \\-> quota spent -> refuse -> log_decision -> END
          dismiss -> END
"""

from __future__ import annotations

from typing import Literal

from langgraph.graph import END, START, StateGraph

from graphs.context import Context
from graphs.state import State, TurnInput
from nodes.answer import draft_answer, send_answer
from nodes.canonical import serve_canonical
from nodes.clarify import clarify
from nodes.confidence import assess_answer
from nodes.context import load_context
from nodes.decide import decide_path
from nodes.escalation import (
    await_creator,
    await_offer_reply,
    deliver_creator_reply,
    offer_escalation,
    queue_for_creator,
)
from nodes.log import log_decision
from nodes.refuse import refuse
from nodes.rules import check_rules
from nodes.signals import compute_signals

PATH_NODES = {"A": "draft_answer", "B": "clarify", "C": "serve_canonical", "D": "offer_escalation", "F": "refuse"}


def route_path(state: State) -> Literal["draft_answer", "clarify", "serve_canonical", "offer_escalation", "refuse"]:
    return PATH_NODES[state["path"]]  # type: ignore[return-value]


def route_assessment(state: State) -> Literal["send_answer", "offer_escalation", "refuse"]:
    """The checked draft goes out (A), is held back for an offer (D), or is refused (F)."""
    return {"A": "send_answer", "D": "offer_escalation", "F": "refuse"}[state["path"]]  # type: ignore[return-value]


def route_after_log(state: State) -> Literal["await_offer_reply", "await_creator", "__end__"]:
    """An offer waits for the user, a queued question for the creator; everything else is done."""
    if state["path"] == "E":
        return "await_creator"
    if state.get("escalation_id") and state.get("phase") == "turn":
        return "await_offer_reply"
    return END


def route_offer_reply(state: State) -> Literal["queue_for_creator", "__end__"]:
    return "queue_for_creator" if state["offer_reply"].get("action") == "accept" else END


def route_after_queue(state: State) -> Literal["log_decision", "refuse"]:
    return "log_decision" if state["path"] == "E" else "refuse"


builder = StateGraph(State, input_schema=TurnInput, context_schema=Context)
builder.add_node(load_context)
builder.add_node(compute_signals)
builder.add_node(check_rules)
builder.add_node(decide_path)
builder.add_node(draft_answer)
builder.add_node(assess_answer)
builder.add_node(send_answer)
builder.add_node(clarify)
builder.add_node(serve_canonical)
builder.add_node(offer_escalation)
builder.add_node(refuse)
builder.add_node(log_decision)
builder.add_node(await_offer_reply)
builder.add_node(queue_for_creator)
builder.add_node(await_creator)
builder.add_node(deliver_creator_reply)

builder.add_edge(START, "load_context")
builder.add_edge("load_context", "compute_signals")
builder.add_edge("compute_signals", "check_rules")
builder.add_edge("check_rules", "decide_path")
builder.add_conditional_edges("decide_path", route_path)
builder.add_edge("draft_answer", "assess_answer")
builder.add_conditional_edges("assess_answer", route_assessment)
for node in ("send_answer", "clarify", "serve_canonical", "offer_escalation", "refuse"):
    builder.add_edge(node, "log_decision")
builder.add_conditional_edges("log_decision", route_after_log)
builder.add_conditional_edges("await_offer_reply", route_offer_reply)
builder.add_conditional_edges("queue_for_creator", route_after_queue)
builder.add_edge("await_creator", "deliver_creator_reply")
builder.add_edge("deliver_creator_reply", END)

graph = builder.compile(name="orchestrator")
