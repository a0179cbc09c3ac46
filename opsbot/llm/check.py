"""`opsbot llm check`: one tiny structured request to the configured server, to learn before the first
user does whether it works, in which structured-output mode, how fast and for how many tokens."""

from __future__ import annotations

import time
from dataclasses import dataclass

from opsbot.config.models import LLMConfig

PING_SCHEMA = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}},
    "required": ["ok"],
    "additionalProperties": False,
}
PING = [
    {"role": "system", "content": 'Answer with the JSON object {"ok": true} and nothing else.'},
    {"role": "user", "content": "ping"},
]


@dataclass
class CheckResult:
    ok: bool
    mode: str | None  # the structured-output mode that worked
    tried: list[str]  # modes in the order they were sent
    latency_ms: float
    prompt_tokens: int
    completion_tokens: int
    calls: int
    problem: str | None = None

    def describe(self) -> str:
        if not self.ok:
            return (
                f"LLM check failed after {self.calls} request(s) ({' → '.join(self.tried) or 'none'}): {self.problem}"
            )
        switched = f" (after {' → '.join(self.tried)})" if len(self.tried) > 1 else ""
        return (
            f"ok: structured output {self.mode}{switched}; {self.latency_ms:.0f} ms, "
            f"{self.prompt_tokens} prompt + {self.completion_tokens} completion tokens, {self.calls} request(s)"
        )


def check(config: LLMConfig) -> CheckResult:
    from opsbot.parsing.llm import LLMClient, LLMFailure, Spend, decode

    client = LLMClient(config)
    spend = Spend()
    started = time.perf_counter()
    try:
        content = client.complete(
            lambda mode: PING, PING_SCHEMA, time.monotonic() + config.timeout, spend, max_tokens=20
        )
        answer, problem = decode(content)
        if answer is not None and not isinstance(answer.get("ok"), bool):
            problem = f"the answer does not follow the schema: {content[:80]!r}"
        ok = problem is None
    except LLMFailure as e:
        ok, problem = False, e.reason
    finally:
        client.close()
    return CheckResult(
        ok=ok,
        mode=client.mode if ok else None,
        tried=list(dict.fromkeys(spend.modes)),
        latency_ms=(time.perf_counter() - started) * 1000,
        prompt_tokens=spend.prompt_tokens,
        completion_tokens=spend.completion_tokens,
        calls=spend.calls,
        problem=problem,
    )
