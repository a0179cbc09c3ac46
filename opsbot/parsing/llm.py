"""The LLM parser: an OpenAI-compatible chat model (OpenAI, vLLM, Ollama, llama.cpp…) chooses an intent
and fills its params. It never writes commands: the answer is constrained by a JSON schema generated
from the rules, checked again on our side (schema, then the rule engine's own param types), and the
rule engine, policy and approvals still decide what runs.

One parse is one chat completion. The only second call is a repair: when the answer is malformed or
out of schema, the errors are sent back once. Any failure (timeout, rate limit, server error, an answer
that is still wrong after the repair) falls back to the offline parser, and Task.note says why.

Time: `llm.timeout` bounds the whole LLM part of one parse (every attempt, back-off and the repair),
so a user waits at most that long before the offline answer. Retries: up to `llm.max_retries` more
attempts for rate limits (429), server errors (5xx) and refused connections, never for timeouts (the
budget is spent) or other client errors. The SDK's own retries are off so the budget holds.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import openai

from opsbot.config import Config
from opsbot.config.models import LLMConfig
from opsbot.core.task import Suggestion, Task
from opsbot.llm.structured import first_mode, next_mode, refuses_format, request_parts, schema_in_prompt
from opsbot.parsing.offline.parser import whole_message
from opsbot.parsing.prompt import (
    Prompt,
    build_messages,
    count_prompt_tokens,
    count_tokens,
    mentioned,
    nearest_examples,
    similarity,
)
from opsbot.parsing.schema import SCHEMA_NAME, check_params, intent_params, task_schema, validate
from opsbot.rules.loader import RuleSet

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletion, ChatCompletionMessageParam

    from opsbot.parsing.offline import OfflineParser

log = logging.getLogger(__name__)

MAX_ANSWER_TOKENS = 400  # an answer is one small JSON object
BACKOFF_FIRST, BACKOFF_MAX = 0.25, 4.0
FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.S)


class LLMFailure(Exception):
    """The LLM gave no usable answer; `reason` is one phrase for Task.note, `kind` one of FAILURE_KINDS
    (the reply's one-line note is chosen by it, in the asker's language)."""

    def __init__(self, reason: str, kind: str = "answer"):
        self.reason = reason
        self.kind = kind
        super().__init__(reason)


# timeout, server (5xx/429 after retries), unreachable, refused (other 4xx), format (the structured-output
# mode refused), answer (unusable after one repair), unconfigured
FAILURE_KINDS = ("timeout", "server", "unreachable", "refused", "format", "answer", "unconfigured")


@dataclass
class Spend:
    """What one parse cost at the LLM: HTTP calls, tokens, whether counts were estimated."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False
    modes: list[str] = field(default_factory=list)


def _retry_after(error: openai.APIStatusError) -> float | None:
    headers = error.response.headers if error.response is not None else {}
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            return float(headers[name]) * scale
        except (KeyError, TypeError, ValueError):
            continue
    return None


class LLMClient:
    """One OpenAI-compatible endpoint: the SDK client, and the structured-output mode the server takes
    (opsbot.llm.structured). With `llm.structured: auto` the mode starts as strict json_schema and moves
    on the first time the server refuses it (any 4xx/5xx naming the response format); the client
    remembers it for every later call, so a refusal costs one request once, not one per parse."""

    def __init__(self, config: LLMConfig, sleep: Callable[[float], None] = time.sleep):
        self.config = config
        self.mode = first_mode(config.structured)
        self.sleep = sleep
        # Local servers (vLLM, Ollama, llama.cpp) take any key; the SDK insists on one.
        self.sdk = openai.OpenAI(
            api_key=config.api_key or "not-needed",
            base_url=config.base_url or None,
            timeout=config.timeout,
            max_retries=0,
        )

    def close(self) -> None:
        self.sdk.close()

    def _refused_format(self, mode: str, e: openai.APIStatusError) -> bool:
        """Whether `e` refuses the structured-output mode; in auto, switch to the next mode (True: try
        again). Raises LLMFailure when the mode was fixed by config or no mode is left."""
        if not refuses_format(e.status_code, e.message, e.body):
            return False
        following = next_mode(mode) if self.config.structured == "auto" else None
        if following is None:
            raise LLMFailure(
                f"the LLM server refused the {mode} response format ({e.status_code}: {e.message[:120]})",
                kind="format",
            ) from None
        log.info(
            "%s does not take %s structured output (%s); using %s from now on",
            self.config.base_url or "the LLM server",
            mode,
            e.status_code,
            following,
        )
        self.mode = following
        return True

    def complete(
        self,
        render: Callable[[str], list[dict[str, Any]]],
        schema: dict[str, Any],
        deadline: float,
        spend: Spend,
        max_tokens: int = MAX_ANSWER_TOKENS,
    ) -> str:
        """The answer's text for the messages `render(mode)` builds. Raises LLMFailure."""
        failures = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0.05:
                raise LLMFailure(f"LLM timed out (budget {self.config.timeout:g} s)", kind="timeout")
            mode = self.mode
            messages = render(mode)
            parts = request_parts(schema, mode, SCHEMA_NAME)
            spend.calls += 1
            spend.modes.append(mode)
            try:
                resp = self.sdk.chat.completions.create(
                    model=self.config.model,
                    messages=cast("list[ChatCompletionMessageParam]", messages),
                    temperature=0,
                    max_tokens=max_tokens,
                    timeout=remaining,
                    **parts,
                )  # our messages and format are plain dicts in the API's shapes
            except openai.APITimeoutError:
                raise LLMFailure(f"LLM timed out after {self.config.timeout:g} s", kind="timeout") from None
            except openai.APIStatusError as e:
                if self._refused_format(mode, e):
                    continue
                if not isinstance(e, (openai.RateLimitError, openai.InternalServerError)):
                    if isinstance(e, openai.BadRequestError):
                        raise LLMFailure(f"LLM refused the request (400: {e.message[:120]})", kind="refused") from None
                    raise LLMFailure(f"LLM request failed ({e.status_code})", kind="refused") from None
                failures += 1
                what = (
                    "LLM rate-limited (429)"
                    if isinstance(e, openai.RateLimitError)
                    else f"LLM server error ({e.status_code})"
                )
                self._back_off(failures, what, _retry_after(e), deadline)
                continue
            except openai.APIConnectionError:
                failures += 1
                self._back_off(failures, "LLM unreachable", None, deadline)
                continue
            except openai.OpenAIError as e:
                raise LLMFailure(f"LLM client error ({type(e).__name__})", kind="refused") from None
            return self._content(resp, messages, parts.get("response_format") or {}, spend)

    def _back_off(self, failures: int, what: str, asked: float | None, deadline: float) -> None:
        kind = "unreachable" if "unreachable" in what else "server"
        if failures > self.config.max_retries:
            raise LLMFailure(f"{what} after {failures} attempts", kind=kind)
        wait = min(asked if asked is not None else BACKOFF_FIRST * 2 ** (failures - 1), BACKOFF_MAX)
        if time.monotonic() + wait >= deadline:
            raise LLMFailure(f"{what}; no time left to retry", kind=kind)
        self.sleep(wait)

    @staticmethod
    def _content(resp: ChatCompletion, messages: list[dict[str, Any]], fmt: dict[str, Any], spend: Spend) -> str:
        choice = resp.choices[0] if resp.choices else None
        content = (choice.message.content if choice and choice.message else None) or ""
        usage = resp.usage
        if usage is not None and usage.prompt_tokens:
            spend.prompt_tokens += usage.prompt_tokens
            spend.completion_tokens += usage.completion_tokens or 0
        else:  # the server reports no usage: count it ourselves
            spend.estimated = True
            spend.prompt_tokens += count_prompt_tokens(messages, fmt)
            spend.completion_tokens += count_tokens(content)
        if choice is not None and choice.finish_reason == "length":
            return content + "\n<<cut off: the answer hit the token limit>>"
        return content


def decode(content: str) -> tuple[dict[str, Any] | None, str | None]:
    """(the answer object, None) or (None, what is wrong with it)."""
    text = content.strip()
    fenced = FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    if not text:
        return None, "the answer was empty"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        return None, f"the answer is not valid JSON ({e.msg} at line {e.lineno} column {e.colno})"
    if not isinstance(value, dict):
        return None, f"the answer must be a JSON object, not {type(value).__name__}"
    return value, None


RANK_FLOOR = 0.1  # an offline rank score below this says nothing about the intent


class LLMParser:
    """Parse with the LLM; the offline parser ranks the candidate rules and is the fallback."""

    name = "llm"

    def __init__(
        self,
        rules: RuleSet,
        config: Config,
        offline: OfflineParser | None,
        client: LLMClient | None = None,
        prompt: Prompt | None = None,
        examples: Callable[[], list[dict[str, Any]]] = list,
    ):
        self.rules = rules
        self.config = config
        self._offline = offline
        self.client = client if client is not None else (LLMClient(config.llm) if config.llm.configured else None)
        self.prompt = prompt or Prompt()
        self.examples = examples

    @property
    def offline(self) -> OfflineParser:
        """The offline parser that ranks the candidate rules and answers when the LLM cannot (`auto`
        hands it over after construction)."""
        if self._offline is None:
            raise RuntimeError("the LLM parser has no offline parser to rank rules with")
        return self._offline

    @offline.setter
    def offline(self, parser: OfflineParser) -> None:
        self._offline = parser

    def candidates(
        self, text: str, previous: Task | None, shots: list[dict[str, Any]], offered: list[str] | None = None
    ) -> list[str]:
        """Top-k intents by the offline ranking, plus the previous task's intent (follow-ups), the
        intents of the nearest confirmed examples and the readings the offline parser offered as choices
        (a bare host's menu: the right one is among them, however crowded the ranking). When the offline
        ranking knows fewer than k (it only ranks intents sharing a word with the message), the rest are
        the rules most like the message by a looser measure: fuzzy similarity to their examples, and
        params for the names it mentions."""
        k = self.config.llm.top_k_rules
        scored = self.offline.rank(text, k)
        ranked = [intent for intent, _ in scored][:k]
        if all(score < RANK_FLOOR for _, score in scored):
            ranked = []  # no intent shares a real word with the message: its order is noise
        if len(ranked) < k:
            ranked += [i for i in self._loose_rank(text) if i not in ranked][: k - len(ranked)]
        extra = [previous.intent] if previous is not None and previous.intent else []
        extra += [ex["intent"] for ex in shots[:2]] + list(offered or [])
        return [i for i in dict.fromkeys(ranked + extra) if i in self.rules.by_intent]

    def _loose_rank(self, text: str) -> list[str]:
        inv = self.config.inventory
        said = set(mentioned(text, list(inv.hosts) + list(inv.groups()) + inv.services() + list(inv.deployments)))
        kinds = {
            kind
            for kind, names in (
                ("host", list(inv.hosts) + list(inv.groups())),
                ("service", inv.services()),
                ("deployment", list(inv.deployments)),
            )
            if said & set(names)
        }
        scores = {}
        for intent in self.rules.intents():
            rule = self.rules.primary(intent)
            if rule is None:
                continue
            texts = [rule.summary, *rule.examples.en, *rule.examples.zh]
            score = max(similarity(text, t) for t in texts)
            types = {spec.type for spec in intent_params(self.rules, intent).values()}
            score += 0.2 * len(kinds & types)
            scores[intent] = score
        return sorted(scores, key=lambda i: -scores[i])

    def parse(self, text: str, previous: Task | None = None, offline_task: Task | None = None) -> Task:
        started = time.perf_counter()
        spend = Spend()
        try:
            offered = [c.intent for c in offline_task.choices if c.intent] if offline_task is not None else []
            task = self._parse(text, previous, spend, offered)
        except LLMFailure as e:
            log.warning("LLM parse failed: %s", e.reason)
            fallback = offline_task if offline_task is not None else self.offline.parse(text, previous=previous)
            task = fallback.model_copy(deep=True)
            task.note = f"{e.reason}; used the offline parser" + (f" ({fallback.note})" if fallback.note else "")
            task.usage = {**task.usage, "fallback": e.reason, "fallback_kind": e.kind}
        task.usage = {**task.usage, **self.usage(spend, started), "parser": task.parser}
        return task

    def usage(self, spend: Spend, started: float) -> dict[str, Any]:
        cfg = self.config.llm
        cost = (
            spend.prompt_tokens / 1000 * cfg.cost_per_1k_input + spend.completion_tokens / 1000 * cfg.cost_per_1k_output
        )
        return {
            "prompt_tokens": spend.prompt_tokens,
            "completion_tokens": spend.completion_tokens,
            "cost": round(cost, 8),
            "latency_ms": round((time.perf_counter() - started) * 1000, 1),
            "model": cfg.model,
            "prompt_version": self.prompt.version,
            "llm_calls": spend.calls,
            "response_format": spend.modes[-1] if spend.modes else None,
            "tokens_estimated": spend.estimated,
        }

    def _parse(self, text: str, previous: Task | None, spend: Spend, offered: list[str] | None = None) -> Task:
        if self.client is None:
            raise LLMFailure("no LLM is configured (set llm.base_url or llm.api_key)", kind="unconfigured")
        deadline = time.monotonic() + self.config.llm.timeout
        shots = nearest_examples(text, self.examples(), self.config.llm.few_shot)
        intents = self.candidates(text, previous, shots, offered)
        schema = task_schema(self.rules, self.config, intents)

        def render(mode: str) -> list[dict[str, Any]]:
            return build_messages(
                self.prompt,
                self.rules,
                self.config,
                text,
                intents,
                previous,
                shots,
                schema if schema_in_prompt(mode) else None,
            )

        content = self.client.complete(render, schema, deadline, spend)
        task, errors = self._accept(content, schema)
        if task is not None:
            return self._finish(task, text, spend, repaired=False)

        def repair(mode: str) -> list[dict[str, Any]]:
            return [
                *render(mode),
                {"role": "assistant", "content": content[:2000]},
                {
                    "role": "user",
                    "content": "That answer was not accepted:\n- "
                    + "\n- ".join(errors[:8])
                    + "\nAnswer again with one JSON object that follows the schema, using only the listed intents "
                    "and values (null when the message does not give a value).",
                },
            ]

        content = self.client.complete(repair, schema, deadline, spend)
        task, errors_again = self._accept(content, schema)
        if task is None:
            raise LLMFailure(f"LLM answer rejected even after one repair ({errors_again[0]})")
        return self._finish(task, text, spend, repaired=True)

    def _finish(self, task: Task, text: str, spend: Spend, repaired: bool) -> Task:
        task.usage = {"repaired": repaired}
        rule = self.rules.primary(task.intent) if task.intent else None
        if rule is not None:  # a question is the message as asked, not the model's rewording of it
            task.params = {**task.params, **whole_message(rule, text)}
            task.missing = [m for m in task.missing if m not in task.params]
        if task.intent is None:
            task.suggestions = [
                Suggestion(intent=i, score=round(float(s), 3)) for i, s in self.offline.rank(text, 3) if s > 0
            ]
        return task

    def _accept(self, content: str, schema: dict[str, Any]) -> tuple[Task | None, list[str]]:
        """Our own check of an answer: JSON, the schema, then the rule engine's param types."""
        answer, problem = decode(content)
        if answer is None:
            return None, [problem or "the answer was empty"]
        errors = validate(answer, schema)
        if errors:
            return None, errors
        intent = answer["intent"]
        try:
            confidence = min(max(float(answer.get("confidence", 0.5)), 0.0), 1.0)
        except (TypeError, ValueError):
            confidence = 0.5
        if intent is None:
            return Task(intent=None, confidence=confidence, parser="llm"), []
        if intent not in self.rules.by_intent:  # the schema only lists loaded intents; belt and braces
            return None, [f"$.intent: unknown intent {intent!r}"]
        params, missing, errors = check_params(self.rules, self.config, intent, answer.get("params") or {})
        if errors:
            return None, errors
        return Task(intent=intent, params=params, confidence=confidence, parser="llm", missing=missing), []
