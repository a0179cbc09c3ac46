"""`opsbot eval DATASET`: score a parser (and prompt versions) on a labelled set.

A dataset is JSON lines: {"text", "intent" (or null), "params": {...}, optional "forbid": [intents]}.
A case passes with the rules of the shared scorer (eval/score_parse.py): the intent matches and every
expected param matches (strings case-insensitively without surrounding quotes and spaces, durations
in seconds, numbers as numbers, PromQL without whitespace); extra params are not penalised; a parse
to a forbidden intent fails and counts as unsafe.

The report gives accuracy overall, per intent and per language, the confusions, latency p50/p95,
LLM calls, tokens and estimated cost. With two prompts (`--prompt A --prompt B`) both run on the same
dataset and the report puts them side by side, with the cases on which they disagree.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opsbot.core.durations import to_seconds

# --- the shared scorer's matching rules ---------------------------------------------------------------

CJK = re.compile(r"[\u4e00-\u9fff]")


def seconds(v: Any) -> float | None:
    try:
        return to_seconds(str(v).replace(" ", ""), fractions=True)
    except ValueError:
        return None


def norm(v: Any) -> str:
    return str(v).strip().strip("'\"`").strip().lower()


def same(key: str, want: Any, got: Any) -> bool:
    if got is None:
        return False
    if key in ("window", "horizon"):
        return seconds(want) is not None and seconds(want) == seconds(got)
    if isinstance(want, (int, float)) and not isinstance(want, bool):
        try:
            return float(got) == float(want)
        except (TypeError, ValueError):
            return False
    if key == "promql":
        return re.sub(r"\s+", "", norm(want)) == re.sub(r"\s+", "", norm(got))
    return norm(want) == norm(got)


def language(text: str) -> str:
    return "zh" if CJK.search(text) else "en"


# --- running ------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    case: dict
    got: dict
    good: bool
    unsafe: bool
    latency_ms: float
    usage: dict


@dataclass
class EvalResult:
    label: str
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.outcomes)

    @property
    def ok(self) -> int:
        return sum(o.good for o in self.outcomes)

    @property
    def accuracy(self) -> float:
        return self.ok / self.n if self.n else 0.0

    @property
    def unsafe(self) -> int:
        return sum(o.unsafe for o in self.outcomes)

    def by(self, key) -> dict[str, tuple[int, int]]:
        out: dict[str, list[int]] = {}
        for o in self.outcomes:
            t = out.setdefault(key(o), [0, 0])
            t[0] += o.good
            t[1] += 1
        return {k: (v[0], v[1]) for k, v in sorted(out.items())}

    def per_intent(self) -> dict[str, tuple[int, int]]:
        return self.by(lambda o: str(o.case.get("intent")))

    def per_language(self) -> dict[str, tuple[int, int]]:
        return self.by(lambda o: language(o.case["text"]))

    def confusions(self) -> list[tuple[str, str, int]]:
        """(wanted, got, count) for every failing kind; a right intent with wrong params reads
        'intent (params: a, b)'."""
        counts: Counter = Counter()
        for o in self.outcomes:
            if o.good:
                continue
            want, got = str(o.case.get("intent")), str(o.got.get("intent"))
            if want == got:
                params = o.got.get("params") or {}
                bad = [k for k, v in o.case.get("params", {}).items() if not same(k, v, params.get(k))]
                got = f"{got} (params: {', '.join(bad)})"
            counts[(want, got)] += 1
        return [(w, g, c) for (w, g), c in counts.most_common()]

    def latency(self, q: float) -> float:
        values = sorted(o.latency_ms for o in self.outcomes)
        if not values:
            return 0.0
        if len(values) == 1:
            return values[0]
        return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]

    def total(self, key: str) -> float:
        return sum(float(o.usage.get(key) or 0) for o in self.outcomes)

    def summary(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "accuracy": round(self.accuracy, 4),
            "ok": self.ok,
            "n": self.n,
            "unsafe": self.unsafe,
            "per_language": self.per_language(),
            "per_intent": self.per_intent(),
            "p50_ms": round(self.latency(0.50), 2),
            "p95_ms": round(self.latency(0.95), 2),
            "llm_calls": int(self.total("llm_calls")),
            "prompt_tokens": int(self.total("prompt_tokens")),
            "completion_tokens": int(self.total("completion_tokens")),
            "cost": round(self.total("cost"), 6),
        }


def read_cases(path: str | Path) -> list[tuple[int, dict]]:
    """The JSON lines of a labelled set with their line numbers; a line that is not JSON is `file:line`."""
    cases = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            cases.append((n, json.loads(line)))
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}:{n}: not JSON ({e.msg})") from None
    return cases


def load_cases(path: str | Path) -> list[dict]:
    cases = []
    for n, case in read_cases(path):
        if "text" not in case or "intent" not in case:
            raise ValueError(f'{path}:{n}: a case needs "text" and "intent"')
        case.setdefault("params", {})
        cases.append(case)
    return cases


def score(case: dict, got: dict) -> tuple[bool, bool]:
    """(passes, unsafe) with the shared scorer's rules."""
    params = got.get("params") or {}
    good = got.get("intent") == case["intent"] and all(same(k, v, params.get(k)) for k, v in case["params"].items())
    bad = got.get("intent") in case.get("forbid", [])
    return good and not bad, bad


def evaluate(parser, cases: list[dict], label: str = "") -> EvalResult:
    result = EvalResult(label=label)
    for case in cases:
        started = time.perf_counter()
        task = parser.parse(case["text"].replace("\n", " "))
        latency = (time.perf_counter() - started) * 1000
        got = task.public()
        good, unsafe = score(case, got)
        result.outcomes.append(Outcome(case, got, good, unsafe, latency, dict(task.usage)))
    return result


# --- reports ------------------------------------------------------------------------------------------


def _frac(t: tuple[int, int]) -> str:
    return f"{t[0]}/{t[1]}"


def report(result: EvalResult, misses: bool = True) -> str:
    langs = ", ".join(f"{k} {_frac(v)}" for k, v in result.per_language().items())
    lines = [
        f"{result.label}: accuracy {result.accuracy:.3f} ({result.ok}/{result.n}; {langs}); unsafe {result.unsafe}"
    ]
    lines.append("per intent:")
    for intent, t in result.per_intent().items():
        lines.append(f"  {intent:<20} {_frac(t):>7}  {t[0] / t[1]:.3f}")
    conf = result.confusions()
    lines.append("confusions (wanted -> got: count):" if conf else "confusions: none")
    lines += [f"  {w} -> {g}: {c}" for w, g, c in conf]
    calls = result.total("llm_calls")
    per = f" ({calls / result.n:.2f} per request)" if result.n else ""
    lines.append(
        f"latency p50 {result.latency(0.5):.1f} ms, p95 {result.latency(0.95):.1f} ms; "
        f"LLM calls {int(calls)}{per}; tokens {int(result.total('prompt_tokens'))} in / "
        f"{int(result.total('completion_tokens'))} out; est. cost ${result.total('cost'):.6f}"
    )
    if misses:
        for o in result.outcomes:
            if not o.good:
                note = f"  [{o.got['note']}]" if o.got.get("note") else ""
                lines.append(
                    f"MISS {o.case['text']!r}: want {o.case['intent']} {o.case['params']}, "
                    f"got {o.got.get('intent')} {o.got.get('params') or {}}{note}"
                )
    return "\n".join(lines)


def compare(results: list[EvalResult]) -> str:
    """Several runs of one dataset side by side, then the cases where they disagree."""
    width = max(14, *(len(r.label) for r in results)) + 2
    head = f"{'':<24}" + "".join(f"{r.label:>{width}}" for r in results)
    rows = [head]

    def row(name: str, values: list[str]) -> None:
        rows.append(f"{name:<24}" + "".join(f"{v:>{width}}" for v in values))

    row("accuracy", [f"{r.accuracy:.3f} ({r.ok}/{r.n})" for r in results])
    row("unsafe", [str(r.unsafe) for r in results])
    rows.append("per language:")
    for lang in sorted({k for r in results for k in r.per_language()}):
        row(f"  {lang}", [_frac(r.per_language().get(lang, (0, 0))) for r in results])
    rows.append("per intent:")
    for intent in sorted({k for r in results for k in r.per_intent()}):
        row(f"  {intent}", [_frac(r.per_intent().get(intent, (0, 0))) for r in results])
    row("latency p50 ms", [f"{r.latency(0.5):.1f}" for r in results])
    row("latency p95 ms", [f"{r.latency(0.95):.1f}" for r in results])
    row("LLM calls", [str(int(r.total("llm_calls"))) for r in results])
    row("prompt tokens / call", [f"{r.total('prompt_tokens') / max(1, r.total('llm_calls')):.0f}" for r in results])
    row("completion tokens", [str(int(r.total("completion_tokens"))) for r in results])
    row("est. cost $", [f"{r.total('cost'):.6f}" for r in results])
    differ = []
    for i, o in enumerate(results[0].outcomes):
        others = [r.outcomes[i] for r in results[1:]]
        if any(x.good != o.good for x in others):
            marks = " | ".join(
                f"{r.label}: {'ok' if r.outcomes[i].good else r.outcomes[i].got.get('intent')}" for r in results
            )
            differ.append(f"  {o.case['text']!r}: {marks}")
    rows.append("cases where they differ:" if differ else "cases where they differ: none")
    return "\n".join(rows + differ)


# --- the command ----------------------------------------------------------------------------------------


def run(
    dataset: str,
    config,
    kind: str | None = None,
    prompts: list[str] | None = None,
    store=None,
    min_accuracy: float = 0.0,
    show_misses: bool = True,
    out=print,
    runbooks: list[str] | None = None,
) -> int:
    """What `opsbot eval` does; returns the exit status (1 when a case is unsafe or accuracy < min)."""
    from opsbot.parsing.factory import build_parser, parser_kind
    from opsbot.rules.loader import load_for
    from opsbot.tuning.evaluate_kb import is_kb_dataset, run_kb

    if is_kb_dataset(dataset):  # runbook questions: scored on the search, not the parse
        return run_kb(dataset, config, runbooks, min_accuracy, show_misses, out)
    cases = load_cases(dataset)
    rules = load_for(config)
    kind = parser_kind(config, kind)
    prompts = list(prompts or [])
    if prompts and kind == "offline":
        out("note: --prompt has no effect on the offline parser; use --parser llm or auto")
        prompts = []
    client = None
    if kind != "offline" and config.llm.configured:
        from opsbot.parsing.llm import LLMClient

        client = LLMClient(config.llm)  # one client: what the server supports is learned once
    results = []
    versions: list[str | Path | None] = list(prompts) if prompts else [None]
    for prompt in versions:
        parser = build_parser(config, kind, rules=rules, store=store, prompt=prompt, client=client)
        version = getattr(getattr(parser, "llm", parser), "prompt", None)
        label = kind + (f" {version.version}" if version is not None else "")
        results.append(evaluate(parser, cases, label))
    for r in results:
        out(report(r, misses=show_misses))
        out("")
    if len(results) > 1:
        out(compare(results))
    worst = min(r.accuracy for r in results)
    unsafe = sum(r.unsafe for r in results)
    return 0 if worst >= min_accuracy and unsafe == 0 else 1
