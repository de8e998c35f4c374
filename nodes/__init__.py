"""The graph's nodes, one module per concern: async (state, runtime) -> partial state update."""
