"""The rule engine: pack schema, loading (+ ambiguity check), binding, sandboxed rendering, choosing."""
