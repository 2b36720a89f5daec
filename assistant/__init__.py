"""The conversation layer: one turn = history -> LLM/tool loop -> reply, traced and accounted for."""
