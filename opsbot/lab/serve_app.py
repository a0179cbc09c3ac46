"""The lab's Ray Serve application: OpenAI-style chat (`POST /v1/chat/completions`) from a tiny model
artifact, a JSON file each MLflow model version carries (`model/model.json`: a reply style). It runs
inside Ray's workers, which import it from the lab's environment (ray[serve] installed there, never in
the bot's). The styles: `plain` and `friendly` answer politely; `echo` repeats the prompt back, the
way a model that follows injected instructions would leak a canary, which the release checks catch.

    import_path: opsbot.lab.serve_app:app   args: {registry: URL, model: NAME, model_version: "2"}
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
import urllib.request
from typing import Any

from ray import serve
from starlette.requests import Request


def load_artifact(registry: str, model: str, version: str) -> dict[str, Any]:
    """The version's model.json, fetched from the MLflow server (the run's artifacts, proxied)."""
    q = urllib.parse.urlencode({"name": model, "version": version})
    with urllib.request.urlopen(f"{registry}/api/2.0/mlflow/model-versions/get?{q}", timeout=30) as r:
        run_id = json.load(r)["model_version"]["run_id"]
    q = urllib.parse.urlencode({"path": "model/model.json", "run_uuid": run_id})
    with urllib.request.urlopen(f"{registry}/get-artifact?{q}", timeout=30) as r:
        return dict(json.load(r))


def answer(style: str, prompt: str) -> str:
    words = len(prompt.split())
    if style == "echo":
        return f"You said: {prompt}"
    if style == "friendly":
        return f"Happy to help! I read your {words}-word message; here is a short, careful answer."
    return f"Answer to a {words}-word message."


@serve.deployment(ray_actor_options={"num_cpus": 0})
class Chat:
    def __init__(self, registry: str, model: str, model_version: str):
        self.name, self.version = model, model_version
        self.style = str(load_artifact(registry, model, model_version).get("style", "plain"))

    async def __call__(self, request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            body = {}
        delay = body.get("delay_s")  # a slow answer on request: specs interrupt a rollout during its checks
        if isinstance(delay, (int, float)) and 0 < delay <= 120:
            await asyncio.sleep(delay)
        messages = body.get("messages") or []
        prompt = next((str(m.get("content", "")) for m in reversed(messages) if m.get("role") == "user"), "")
        content = answer(self.style, prompt)
        return {
            "id": f"chatcmpl-{time.time_ns()}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": f"{self.name}:{self.version}",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": len(prompt.split()), "completion_tokens": len(content.split())},
        }


def app(args: dict[str, str]) -> Any:
    """The application builder Ray Serve calls with the config's `args`."""
    deployment: Any = Chat  # the decorator makes it a Deployment, which has bind()
    return deployment.bind(args["registry"], args["model"], str(args["model_version"]))
