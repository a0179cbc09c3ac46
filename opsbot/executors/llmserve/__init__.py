"""LLM serving on Ray Serve with MLflow's Model Registry: the `llmserve` executor, one module per kind of
answer (the registry's models and versions, history, changes through a rollout, status, capacity)."""
