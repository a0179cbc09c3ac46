"""`opsbot tune`: promote what people confirmed into the learned examples bank.

Confirmed examples are the store's corrections and up-voted parses (Store.confirmed_examples). Each is
checked against the loaded rules (the intent exists, its params bind with the rule engine's types) and
merged into the current bank, keyed by the message text (a later confirmation of the same text wins).
The bank is written as a new version only when something changed, so a tune is reviewable (`--dry-run`
prints the change and writes nothing) and reversible (`--revert` goes back one version).

The bank is used twice: as the offline parser's extra examples and as the LLM's few-shot examples.
A running bot picks a new version up on its next request (auto and llm parsers) or on restart (offline).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from opsbot.config import Config
from opsbot.parsing.schema import check_params
from opsbot.rules.loader import RuleSet


def text_key(text: str) -> str:
    return " ".join(text.lower().split())


@dataclass
class TunePlan:
    current: list[dict]  # the bank now
    examples: list[dict]  # the bank after the tune
    added: list[dict] = field(default_factory=list)  # new texts
    changed: list[tuple[dict, dict]] = field(default_factory=list)  # (before, after) for known texts
    skipped: list[tuple[dict, str]] = field(default_factory=list)  # (example, why)
    version: int | None = None  # the version written (None: nothing written)
    gate: list = field(default_factory=list)  # GateResult per labelled set (tune --gate)

    @property
    def refused(self) -> list:
        """The gate's sets on which the new bank is less accurate than the current one."""
        return [g for g in self.gate if g.lowered]

    @property
    def promoted(self) -> list[dict]:
        return self.added + [after for _, after in self.changed]


def _clean(example: dict, rules: RuleSet, config: Config) -> tuple[dict | None, str | None]:
    from opsbot.redact import MASK, redact

    text, intent = (example.get("text") or "").strip(), example.get("intent")
    if not text:
        return None, "empty text"
    if redact(text) != text or MASK in text:  # the store keeps texts redacted: a mask is where a secret was
        return None, "the text contains a secret"
    if intent not in rules.by_intent:
        return None, f"no rule has the intent {intent!r}"
    params, _missing, errors = check_params(rules, config, intent, example.get("params") or {})
    if errors:
        return None, "; ".join(errors)
    return {
        "text": text,
        "intent": intent,
        "params": params,
        "source": example.get("source", "tune"),
        "request_id": example.get("request_id"),
        **({"outcome": example["outcome"]} if example.get("outcome") else {}),
    }, None


def plan(store, rules: RuleSet, config: Config) -> TunePlan:
    """What a tune would do, without writing anything."""
    current = store.learned_examples()
    before = {text_key(ex["text"]): ex for ex in current}
    bank: dict[str, dict] = dict(before)
    result = TunePlan(current=current, examples=[])
    # the heaviest last (a correction wins over votes and outcomes), then oldest first: a later one wins
    confirmed = sorted(store.confirmed_examples(), key=lambda ex: ex.get("weight", 1))
    for example in confirmed:
        clean, why = _clean(example, rules, config)
        if clean is None:
            result.skipped.append((example, why or "it cannot be used"))
            continue
        key = text_key(clean["text"])
        old = bank.get(key)
        if old is None or old["intent"] != clean["intent"] or (old.get("params") or {}) != clean["params"]:
            bank[key] = clean
    for key, ex in bank.items():
        if key not in before:
            result.added.append(ex)
        elif (ex["intent"], ex.get("params") or {}) != (before[key]["intent"], before[key].get("params") or {}):
            result.changed.append((before[key], ex))
    result.examples = list(bank.values())
    return result


def tune(store, rules: RuleSet, config: Config, dry_run: bool = False, gate: list[str] | None = None) -> TunePlan:
    """Promote the confirmed examples; with `gate` (labelled sets), only when no set loses accuracy."""
    result = plan(store, rules, config)
    if result.promoted and gate:
        from opsbot.tuning.gate import check_gate

        result.gate = check_gate(gate, config, result.current, result.examples)
    if result.promoted and not dry_run and not result.refused:
        result.version = store.set_learned_examples(result.examples)
    return result


def revert(store) -> int:
    """Back one version; returns the version now current (LookupError when there is none)."""
    return store.revert_learned_examples()


def _show(example: dict) -> str:
    params = " ".join(f"{k}={v}" for k, v in (example.get("params") or {}).items())
    return f"{example['text']!r} -> {example['intent']}{' ' + params if params else ''}"


def _outcome(example: dict) -> str:
    return f", check: {example['outcome']}" if example.get("outcome") else ""


def describe(result: TunePlan, dry_run: bool = False) -> str:
    lines = []
    for ex in result.added:
        lines.append(f"+ {_show(ex)}  ({ex.get('source')}{_outcome(ex)})")
    for before, after in result.changed:
        lines.append(f"~ {_show(after)}  (was {before['intent']}; {after.get('source')})")
    for ex, why in result.skipped:
        lines.append(f"skipped {ex.get('text')!r}: {why}")
    n = len(result.promoted)
    for g in result.gate:
        lines.append(("LOWER " if g.lowered else "gate ok ") + g.describe())
    if result.refused:
        worst = min(result.refused, key=lambda g: g.after - g.before)
        lines.append(
            f"refused: the new bank lowers accuracy on {', '.join(g.dataset for g in result.refused)} "
            f"(by up to {(worst.before - worst.after) * 100:.1f} points on {worst.dataset}); nothing was written, "
            f"the bank stays at {len(result.current)} examples"
        )
        return "\n".join(lines)
    if not n:
        lines.append(f"nothing new to promote; the bank stays at {len(result.current)} examples")
    elif dry_run:
        lines.append(
            f"dry run: would promote {n} example(s); the bank would have {len(result.examples)} (nothing was written)"
        )
    else:
        lines.append(
            f"promoted {n} example(s); the bank has {len(result.examples)} (version {result.version}; "
            "`opsbot tune --revert` undoes this)"
        )
    return "\n".join(lines)
