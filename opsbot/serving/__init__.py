"""LLM serving engines, spoken to over HTTP only (the bot needs neither Ray nor MLflow installed): Ray
Serve's REST API on the Ray dashboard (`ray.py`), MLflow's Model Registry REST API (`registry.py`), the
release checks a new version must pass (`checks.py`), the rollout that deploys, checks and rolls back
(`rollout.py`) and the replica count a request-rate forecast needs (`capacity.py`)."""
