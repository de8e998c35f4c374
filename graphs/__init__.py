"""The orchestration graph: state, per-run context, agent config and the StateGraph itself."""
